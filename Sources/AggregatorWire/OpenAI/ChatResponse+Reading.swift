/// Reading OpenAI answers and stream chunks from upstream bytes (`JSONReader`). Members we do not type are kept
/// in `extra` on the answer, the message, the chunk, the delta and the usage, and written back after the typed
/// ones, so an OpenAI-compatible upstream's fields (`annotations`, `service_tier`, reasoning token counts, …)
/// reach the client; optional members may be absent or `null`.
extension JSONReader {
    /// A required member that was absent.
    static func missing(_ key: String, in type: String) -> Error {
        Error("\(type) has no '\(key)'")
    }
}

extension Usage: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var prompt: Int?, completion: Int?, total: Int?, cached: Int?, cacheWrite: Int?
        var details = JSONObject(), unknown = JSONObject()
        try r.readObject { r, key in
            switch key {
            case "prompt_tokens": prompt = try r.readOptionalInt()
            case "completion_tokens": completion = try r.readOptionalInt()
            case "total_tokens": total = try r.readOptionalInt()
            case "prompt_tokens_details":
                // Lenient: details that are not an object are ignored.
                guard r.nextIsObject else { return try r.skipValue() }
                try r.readObject { r, key in
                    switch key {
                    case "cached_tokens": cached = try r.readOptionalInt()
                    case "cache_write_tokens":
                        // Metered, and passed through to the client untouched among the other details.
                        let value = try r.readValue()
                        if case .int(let n) = value { cacheWrite = Int(n) }
                        details[key] = value
                    default: details[key] = try r.readValue()
                    }
                }
            default: unknown[key] = try r.readValue()
            }
        }
        self.init(promptTokens: prompt ?? 0, completionTokens: completion ?? 0, cachedTokens: cached, cacheWriteTokens: cacheWrite)
        totalTokens = total ?? (promptTokens + completionTokens)
        promptDetails = details
        extra = unknown
    }
}

extension FunctionCall: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var name: String?, arguments: String?
        try r.readObject { r, key in
            switch key {
            case "name": name = try r.readString()
            case "arguments": arguments = try r.readString()
            default: try r.skipValue()
            }
        }
        guard let name else { throw JSONReader.missing("name", in: "function") }
        guard let arguments else { throw JSONReader.missing("arguments", in: "function") }
        self.init(name: name, arguments: arguments)
    }
}

extension ToolCall: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var id: String?, type: String?, function: FunctionCall?
        try r.readObject { r, key in
            switch key {
            case "id": id = try r.readString()
            case "type": type = try r.readOptionalString()
            case "function": function = try FunctionCall(reading: &r)
            default: try r.skipValue()
            }
        }
        guard let id else { throw JSONReader.missing("id", in: "tool_call") }
        guard let function else { throw JSONReader.missing("function", in: "tool_call") }
        self.init(id: id, type: type ?? "function", function: function)
    }
}

extension AssistantMessage: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        self.init(content: nil)
        try r.readObject { r, key in
            switch key {
            case "content": content = try r.readOptionalString()
            case "refusal": refusal = try r.readOptionalString()
            case "reasoning_content": reasoningContent = try r.readOptionalString()
            case "tool_calls": toolCalls = try r.readNull() ? nil : r.readArray(of: ToolCall.self)
            case "role": try r.skipValue()
            default: extra[key] = try r.readValue()
            }
        }
    }
}

extension ChatChoice: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var index: Int?, message: AssistantMessage?, logprobs: JSONValue?, finish: FinishReason?
        try r.readObject { r, key in
            switch key {
            case "index": index = try r.readInt()
            case "message": message = try AssistantMessage(reading: &r)
            case "logprobs": logprobs = try r.readNull() ? nil : r.readValue()
            case "finish_reason": finish = try r.readOptionalString().map(FinishReason.init(rawValue:))
            default: try r.skipValue()
            }
        }
        guard let index else { throw JSONReader.missing("index", in: "choice") }
        guard let message else { throw JSONReader.missing("message", in: "choice") }
        self.init(index: index, message: message, finishReason: finish)
        self.logprobs = logprobs
    }
}

extension ChatCompletion: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var id: String?, created: Int?, model: String?, fingerprint: String?, choices: [ChatChoice]?, usage: Usage?, tier: String?
        var unknown = JSONObject()
        try r.readObject { r, key in
            switch key {
            case "id": id = try r.readString()
            case "created": created = try r.readInt()
            case "model": model = try r.readString()
            case "system_fingerprint": fingerprint = try r.readOptionalString()
            case "choices": choices = try r.readArray(of: ChatChoice.self)
            case "usage": usage = try r.readOptional(Usage.self)
            case "service_tier": tier = try r.readOptionalString()
            case "object": try r.skipValue()
            default: unknown[key] = try r.readValue()
            }
        }
        guard let id else { throw JSONReader.missing("id", in: "chat.completion") }
        guard let created else { throw JSONReader.missing("created", in: "chat.completion") }
        guard let model else { throw JSONReader.missing("model", in: "chat.completion") }
        guard let choices else { throw JSONReader.missing("choices", in: "chat.completion") }
        self.init(id: id, created: created, model: model, choices: choices, usage: usage)
        systemFingerprint = fingerprint
        serviceTier = tier
        extra = unknown
    }
}

extension ToolCallDelta.FunctionDelta: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "name": name = try r.readOptionalString()
            case "arguments": arguments = try r.readOptionalString()
            default: try r.skipValue()
            }
        }
    }
}

extension ToolCallDelta: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var index: Int?, id: String?, type: String?, function: FunctionDelta?
        try r.readObject { r, key in
            switch key {
            case "index": index = try r.readInt()
            case "id": id = try r.readOptionalString()
            case "type": type = try r.readOptionalString()
            case "function": function = try r.readOptional(FunctionDelta.self)
            default: try r.skipValue()
            }
        }
        guard let index else { throw JSONReader.missing("index", in: "tool_call delta") }
        self.init(index: index, id: id, type: type, function: function)
    }
}

extension ChunkDelta: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "role": role = try r.readOptionalString()
            case "content": content = try r.readOptionalString()
            case "refusal": refusal = try r.readOptionalString()
            case "reasoning_content": reasoningContent = try r.readOptionalString()
            case "tool_calls": toolCalls = try r.readNull() ? nil : r.readArray(of: ToolCallDelta.self)
            default: extra[key] = try r.readValue()
            }
        }
    }
}

extension ChunkChoice: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        var index: Int?, delta: ChunkDelta?, logprobs: JSONValue?, finish: FinishReason?
        try r.readObject { r, key in
            switch key {
            case "index": index = try r.readInt()
            case "delta": delta = try ChunkDelta(reading: &r)
            case "logprobs": logprobs = try r.readNull() ? nil : r.readValue()
            case "finish_reason": finish = try r.readOptionalString().map(FinishReason.init(rawValue:))
            default: try r.skipValue()
            }
        }
        guard let index else { throw JSONReader.missing("index", in: "chunk choice") }
        guard let delta else { throw JSONReader.missing("delta", in: "chunk choice") }
        self.init(index: index, delta: delta, finishReason: finish)
        self.logprobs = logprobs
    }
}

extension ChatCompletionChunk: JSONReadable {
    public init(reading r: inout JSONReader) throws {
        self.init(id: "", created: 0, model: "", choices: [])
        try r.readObject { r, key in
            switch key {
            case "id": id = try r.readOptionalString() ?? ""
            case "created": created = try r.readOptionalInt() ?? 0
            case "model": model = try r.readOptionalString() ?? ""
            case "system_fingerprint": systemFingerprint = try r.readOptionalString()
            // Some backends send `choices: null` on the usage chunk: lenient when reading (WIRE §5.7).
            case "choices": choices = try r.readNull() ? [] : r.readArray(of: ChunkChoice.self)
            case "usage": usage = try r.readOptional(Usage.self)
            case "object": try r.skipValue()
            default: extra[key] = try r.readValue()
            }
        }
    }
}

extension JSONValue: JSONReadable {
    public init(reading reader: inout JSONReader) throws {
        self = try reader.readValue()
    }
}
