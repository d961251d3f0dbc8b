import AggregatorWire

/// One line of `/api/chat` (or the whole non-streamed answer), WIRE §3.2. Counts are `omitempty` upstream:
/// a missing count is zero. `error` is set on a failure line after the 200.
struct OllamaChatResponse: Sendable, Hashable {
    var model: String?
    var message: OllamaMessage?
    var done = false
    var doneReason: String?
    var promptEvalCount: Int?
    var evalCount: Int?
    var error: String?
}

/// Ollama answers are read with `JSONReader`, which keeps the order of a tool call's argument keys as the model
/// wrote them (`JSONDecoder` does not report keys in order).
extension OllamaChatResponse: JSONReadable {
    init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "model": model = try r.readOptionalString()
            case "message": message = try r.readOptional(OllamaMessage.self)
            case "done": done = try r.readNull() ? false : r.readBool()
            case "done_reason": doneReason = try r.readOptionalString()
            case "prompt_eval_count": promptEvalCount = try r.readOptionalInt()
            case "eval_count": evalCount = try r.readOptionalInt()
            // `{"error":"…"}` is Ollama's shape; an OpenAI-style object from a proxy in front of it is read too.
            case "error":
                switch try r.readValue() {
                case .string(let text): error = text
                case .object(let object): error = object["message"]?.stringValue ?? "ollama reported an error"
                default: error = nil
                }
            default: try r.skipValue()
            }
        }
    }
}

/// `GET /api/tags` (WIRE §3.4).
struct OllamaTags: Sendable, Decodable {
    struct Entry: Sendable, Decodable {
        var name: String?
        var model: String?
    }

    var models: [Entry]
}

extension OllamaMessage: JSONReadable {
    init(reading r: inout JSONReader) throws {
        self.init(role: "assistant", content: "")
        try r.readObject { r, key in
            switch key {
            case "role": role = try r.readOptionalString() ?? "assistant"
            case "content": content = try r.readOptionalString() ?? ""
            case "images": images = try r.readNull() ? nil : r.readArray(of: JSONValue.self).map { value in
                guard case .string(let image) = value else { throw JSONReader.Error("images must be strings") }
                return image
            }
            case "tool_calls": toolCalls = try r.readNull() ? nil : r.readArray(of: OllamaToolCall.self)
            case "tool_name": toolName = try r.readOptionalString()
            case "tool_call_id": toolCallID = try r.readOptionalString()
            case "thinking": thinking = try r.readOptionalString()
            default: try r.skipValue()
            }
        }
    }
}

extension OllamaToolCall: JSONReadable {
    init(reading r: inout JSONReader) throws {
        var id: String?, name: String?, index: Int?, arguments: JSONValue = .object(JSONObject())
        try r.readObject { r, key in
            switch key {
            case "id": id = try r.readOptionalString()
            case "function":
                try r.readObject { r, key in
                    switch key {
                    case "name": name = try r.readString()
                    case "index": index = try r.readOptionalInt()
                    case "arguments": arguments = try r.readNull() ? .object(JSONObject()) : r.readValue()
                    default: try r.skipValue()
                    }
                }
            default: try r.skipValue()
            }
        }
        guard let name else { throw JSONReader.Error("an ollama tool call has no function name") }
        self.init(id: id, name: name, index: index, arguments: arguments)
    }
}
