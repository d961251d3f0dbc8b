/// Reading a client's chat request with `JSONReader`: the fast path of every `/v1/chat/completions` call.
///
/// The `Decodable` conformances stay the reference. This path is strict — anything it does not read exactly as
/// they would (a wrong type, a missing field, an unknown role) it refuses, and the caller then decodes with
/// `JSONDecoder`, which either accepts the body or reports the problem with the field's path. Both paths give
/// equal values for every body both accept (tested on a corpus of requests, valid and not).
extension ChatCompletionRequest: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var model: String?, messages: [ChatMessage]?
        var request = ChatCompletionRequest(model: "", messages: [])
        try r.readObject { r, key in
            switch key {
            case "model": model = try r.readString()
            case "messages": messages = try r.readArray(of: ChatMessage.self)
            case "tools": request.tools = try r.readNull() ? nil : r.readArray(of: Tool.self)
            case "tool_choice": request.toolChoice = try r.readNull() ? nil : ToolChoice.from(r.readValue()).get()
            case "parallel_tool_calls": request.parallelToolCalls = try r.readNull() ? nil : r.readBool()
            case "temperature": request.temperature = try r.readOptionalDouble()
            case "top_p": request.topP = try r.readOptionalDouble()
            case "max_tokens": request.maxTokens = try r.readOptionalInt()
            case "max_completion_tokens": request.maxCompletionTokens = try r.readOptionalInt()
            case "stop":
                switch try r.readValue() {
                case .null: request.stop = nil
                case .string(let one): request.stop = [one]
                case .array(let values):
                    request.stop = try values.map { value in
                        guard case .string(let s) = value else { throw JSONReader.Error("'stop' must hold strings") }
                        return s
                    }
                default: throw JSONReader.Error("'stop' must be a string or an array of strings")
                }
            case "n": request.n = try r.readOptionalInt()
            case "stream": request.stream = try r.readNull() ? nil : r.readBool()
            case "stream_options": request.streamOptions = try r.readOptional(StreamOptions.self)
            case "response_format": request.responseFormat = try r.readNull() ? nil : r.readValue()
            case "seed": request.seed = try r.readOptionalInt()
            case "user": request.user = try r.readOptionalString()
            case "logprobs": request.logprobs = try r.readNull() ? nil : r.readBool()
            case "top_logprobs": request.topLogprobs = try r.readOptionalInt()
            case "frequency_penalty": request.frequencyPenalty = try r.readOptionalDouble()
            case "presence_penalty": request.presencePenalty = try r.readOptionalDouble()
            case "logit_bias": request.logitBias = try r.readNull() ? nil : r.readValue()
            default: request.extra[key] = try r.readValue()
            }
        }
        guard let model else { throw JSONReader.missing("model", in: "request") }
        guard let messages else { throw JSONReader.missing("messages", in: "request") }
        request.model = model
        request.messages = messages
        self = request
    }
}

extension ChatMessage: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var role: ChatRole?
        var message = ChatMessage(role: .user, content: nil)
        try r.readObject { r, key in
            switch key {
            case "role":
                guard let known = ChatRole(rawValue: try r.readString()) else { throw JSONReader.Error("unknown message role") }
                role = known
            case "content":
                switch try r.readValue() {
                case .null: message.content = nil
                case .string(let text): message.content = .text(text)
                case .array(let parts): message.content = .parts(try parts.map { try ContentPart.from($0).get() })
                default: throw JSONReader.Error("'content' must be a string, an array of parts or null")
                }
            case "name": message.name = try r.readOptionalString()
            case "tool_calls": message.toolCalls = try r.readNull() ? nil : r.readArray(of: ToolCall.self)
            case "tool_call_id": message.toolCallID = try r.readOptionalString()
            case "refusal": message.refusal = try r.readOptionalString()
            default: message.extra[key] = try r.readValue()
            }
        }
        guard let role else { throw JSONReader.missing("role", in: "message") }
        message.role = role
        self = message
    }
}

extension Tool: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var type: String?, name: String?, description: String?, parameters: JSONValue?, strict: Bool?
        var sawFunction = false
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readOptionalString()
            case "function":
                sawFunction = true
                try r.readObject { r, key in
                    switch key {
                    case "name": name = try r.readString()
                    case "description": description = try r.readOptionalString()
                    case "parameters": parameters = try r.readNull() ? nil : r.readValue()
                    case "strict": strict = try r.readNull() ? nil : r.readBool()
                    default: try r.skipValue()
                    }
                }
            default: try r.skipValue()
            }
        }
        guard sawFunction, let name else { throw JSONReader.missing("function.name", in: "tool") }
        self.init(name: name, description: description, parameters: parameters, strict: strict)
        self.type = type ?? "function"
    }
}

extension StreamOptions: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        self.init(includeUsage: nil)
        try r.readObject { r, key in
            if key == "include_usage" { includeUsage = try r.readNull() ? nil : r.readBool() } else { try r.skipValue() }
        }
    }
}

extension JSONReader {
    public mutating func readOptionalDouble() throws -> Double? {
        switch try readValue() {
        case .null: return nil
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: throw JSONReader.Error("expected a number")
        }
    }
}
