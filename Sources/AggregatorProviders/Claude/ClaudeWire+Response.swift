import AggregatorWire

extension ClaudeWire {
    /// A Messages API answer (WIRE §2.3); also the `message` of a stream's `message_start`.
    struct Response: Sendable, Decodable {
        var id: String
        var model: String?
        var content: [ContentBlock]
        var stopReason: String?
        var stopSequence: String?
        var usage: Usage?

        enum CodingKeys: String, CodingKey {
            case id, model, content, usage
            case stopReason = "stop_reason", stopSequence = "stop_sequence"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            model = try c.decodeIfPresent(String.self, forKey: .model)
            content = try c.decodeIfPresent([ContentBlock].self, forKey: .content) ?? []
            stopReason = try c.decodeIfPresent(String.self, forKey: .stopReason)
            stopSequence = try c.decodeIfPresent(String.self, forKey: .stopSequence)
            usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        }
    }

    /// A content block of an answer. Blocks we do not turn into OpenAI fields (thinking, server tools, …)
    /// are kept only by their type.
    enum ContentBlock: Sendable, Decodable, Equatable {
        case text(String)
        case toolUse(id: String, name: String, input: JSONValue)
        case other(type: String)

        enum CodingKeys: String, CodingKey { case type, text, id, name, input }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "text":
                self = .text(try c.decodeIfPresent(String.self, forKey: .text) ?? "")
            case "tool_use":
                self = .toolUse(
                    id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name),
                    input: try c.decodeIfPresent(JSONValue.self, forKey: .input) ?? .object(JSONObject()))
            default:
                self = .other(type: type)
            }
        }
    }

    /// Token counts. `input_tokens` excludes cache reads and writes (WIRE §2.3). Every field is optional
    /// because a stream's `message_delta` may carry only some of them.
    struct Usage: Sendable, Decodable, Equatable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheCreationInputTokens: Int?
        var cacheReadInputTokens: Int?

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens", outputTokens = "output_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens"
        }

        /// Fields present in `newer` replace ours (stream usage is cumulative; the last report wins).
        func updated(with newer: Usage?) -> Usage {
            guard let newer else { return self }
            return Usage(
                inputTokens: newer.inputTokens ?? inputTokens, outputTokens: newer.outputTokens ?? outputTokens,
                cacheCreationInputTokens: newer.cacheCreationInputTokens ?? cacheCreationInputTokens,
                cacheReadInputTokens: newer.cacheReadInputTokens ?? cacheReadInputTokens)
        }

        /// As OpenAI counts it: every prompt token (fresh, cache writes, cache reads) is a prompt token, and
        /// the cache reads are its `cached_tokens` (WIRE §2.8, §5.20).
        var openAI: AggregatorWire.Usage {
            let prompt = (inputTokens ?? 0) + (cacheCreationInputTokens ?? 0) + (cacheReadInputTokens ?? 0)
            return AggregatorWire.Usage(promptTokens: prompt, completionTokens: outputTokens ?? 0, cachedTokens: cacheReadInputTokens)
        }
    }

    /// `{type, message}` of an `error` event or error body.
    struct ErrorDetail: Sendable, Decodable, Equatable {
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
