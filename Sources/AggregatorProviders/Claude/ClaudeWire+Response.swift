import AggregatorWire

extension ClaudeWire {
    /// A Messages API answer (WIRE §2.3); also the `message` of a stream's `message_start`.
    struct Response: Sendable {
        var id = ""
        var model: String?
        var content: [ContentBlock] = []
        var stopReason: String?
        var stopSequence: String?
        var usage: Usage?
    }

    /// A content block of an answer. Blocks we do not turn into OpenAI fields (thinking, server tools, …)
    /// are kept only by their type.
    enum ContentBlock: Sendable, Equatable {
        case text(String)
        case toolUse(id: String, name: String, input: JSONValue)
        case other(type: String)
    }

    /// Token counts. `input_tokens` excludes cache reads and writes (WIRE §2.3). Every field is optional
    /// because a stream's `message_delta` may carry only some of them.
    struct Usage: Sendable, Equatable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheCreationInputTokens: Int?
        var cacheReadInputTokens: Int?

        /// Fields present in `newer` replace ours (stream usage is cumulative; the last report wins).
        func updated(with newer: Usage?) -> Usage {
            guard let newer else { return self }
            return Usage(
                inputTokens: newer.inputTokens ?? inputTokens, outputTokens: newer.outputTokens ?? outputTokens,
                cacheCreationInputTokens: newer.cacheCreationInputTokens ?? cacheCreationInputTokens,
                cacheReadInputTokens: newer.cacheReadInputTokens ?? cacheReadInputTokens)
        }

        /// As OpenAI counts it: every prompt token (fresh, cache writes, cache reads) is a prompt token, and
        /// the cache reads are its `cached_tokens` (WIRE §2.8, §5.20). The cache writes ride along for metering
        /// (`cacheWriteTokens`), not shown to the client.
        var openAI: AggregatorWire.Usage {
            let prompt = (inputTokens ?? 0) + (cacheCreationInputTokens ?? 0) + (cacheReadInputTokens ?? 0)
            return AggregatorWire.Usage(
                promptTokens: prompt, completionTokens: outputTokens ?? 0, cachedTokens: cacheReadInputTokens,
                cacheWriteTokens: cacheCreationInputTokens)
        }
    }

    /// `{type, message}` of an `error` event or error body.
    struct ErrorDetail: Sendable, Equatable {
        var type: String
        var message: String
    }

    /// One entry of `GET /v1/models`, and the page around it (WIRE §2.6).
    struct ModelPage: Sendable, Decodable {
        struct Model: Sendable, Decodable { var id: String }
        var data: [Model]
        var hasMore: Bool?
        var lastID: String?

        enum CodingKeys: String, CodingKey { case data, hasMore = "has_more", lastID = "last_id" }
    }
}

extension ClaudeWire {
    /// `stop_reason` → `finish_reason` (WIRE §2.8).
    static func finishReason(_ stopReason: String?) -> FinishReason {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        default: .stop  // end_turn, stop_sequence, pause_turn, null, unknown
        }
    }
}

// Claude's answers and stream events are read with `JSONReader`: a tool's `input` keeps the key order the model
// wrote (it becomes the OpenAI `arguments` text, or the content of a JSON-mode answer), and the hot stream path
// skips Codable.

extension ClaudeWire.Response: JSONReadable {
    init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "id": id = try r.readOptionalString() ?? ""
            case "model": model = try r.readOptionalString()
            case "content": content = try r.readNull() ? [] : r.readArray(of: ClaudeWire.ContentBlock.self)
            case "stop_reason": stopReason = try r.readOptionalString()
            case "stop_sequence": stopSequence = try r.readOptionalString()
            case "usage": usage = try r.readOptional(ClaudeWire.Usage.self)
            default: try r.skipValue()
            }
        }
    }
}

extension ClaudeWire.ContentBlock: JSONReadable {
    init(reading r: inout JSONReader) throws {
        var type: String?, text: String?, id: String?, name: String?, input: JSONValue?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readString()
            case "text": text = try r.readOptionalString()
            case "id": id = try r.readOptionalString()
            case "name": name = try r.readOptionalString()
            case "input": input = try r.readNull() ? nil : r.readValue()
            default: try r.skipValue()
            }
        }
        switch type {
        case "text"?: self = .text(text ?? "")
        case "tool_use"?:
            guard let id, let name else { throw JSONReader.Error("a tool_use block needs an id and a name") }
            self = .toolUse(id: id, name: name, input: input ?? .object(JSONObject()))
        case let other?: self = .other(type: other)
        case nil: throw JSONReader.Error("a content block has no type")
        }
    }
}

extension ClaudeWire.Usage: JSONReadable {
    init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "input_tokens": inputTokens = try r.readOptionalInt()
            case "output_tokens": outputTokens = try r.readOptionalInt()
            case "cache_creation_input_tokens": cacheCreationInputTokens = try r.readOptionalInt()
            case "cache_read_input_tokens": cacheReadInputTokens = try r.readOptionalInt()
            default: try r.skipValue()
            }
        }
    }
}

extension ClaudeWire.ErrorDetail: JSONReadable {
    init(reading r: inout JSONReader) throws {
        var type: String?, message: String?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readString()
            case "message": message = try r.readString()
            default: try r.skipValue()
            }
        }
        guard let type, let message else { throw JSONReader.Error("an error needs a type and a message") }
        self.init(type: type, message: message)
    }
}
