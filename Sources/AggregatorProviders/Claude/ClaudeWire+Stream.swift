import AggregatorWire

extension ClaudeWire {
    /// One event of a streamed answer (WIRE §2.4). Event types we do not know decode as `.unknown`.
    enum StreamEvent: Sendable, Decodable {
        case messageStart(Response)
        case contentBlockStart(index: Int, block: ContentBlock)
        case contentBlockDelta(index: Int, delta: Delta)
        case contentBlockStop(index: Int)
        case messageDelta(stopReason: String?, usage: Usage?)
        case messageStop
        case ping
        case error(ErrorDetail)
        case unknown(String)

        enum CodingKeys: String, CodingKey {
            case type, message, index, delta, usage, error
            case contentBlock = "content_block"
        }

        private struct MessageDelta: Decodable {
            var stopReason: String?
            enum CodingKeys: String, CodingKey { case stopReason = "stop_reason" }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "message_start":
                self = .messageStart(try c.decode(Response.self, forKey: .message))
            case "content_block_start":
                self = .contentBlockStart(index: try c.decode(Int.self, forKey: .index), block: try c.decode(ContentBlock.self, forKey: .contentBlock))
            case "content_block_delta":
                self = .contentBlockDelta(index: try c.decode(Int.self, forKey: .index), delta: try c.decode(Delta.self, forKey: .delta))
            case "content_block_stop":
                self = .contentBlockStop(index: try c.decode(Int.self, forKey: .index))
            case "message_delta":
                let delta = try c.decodeIfPresent(MessageDelta.self, forKey: .delta)
                self = .messageDelta(stopReason: delta?.stopReason, usage: try c.decodeIfPresent(Usage.self, forKey: .usage))
            case "message_stop": self = .messageStop
            case "ping": self = .ping
            case "error": self = .error(try c.decode(ErrorDetail.self, forKey: .error))
            default: self = .unknown(type)
            }
        }

        /// The event types this decoder knows; data of any other type is ignored, not an error.
        static let knownTypes: Set<String> = [
            "message_start", "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop", "ping", "error",
        ]
    }

    /// A `content_block_delta`'s delta.
    enum Delta: Sendable, Decodable, Equatable {
        case text(String)
        case inputJSON(String)
        /// thinking, signature, citations and any newer kind: not part of the OpenAI answer.
        case other(type: String)

        enum CodingKeys: String, CodingKey {
            case type, text
            case partialJSON = "partial_json"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "text_delta": self = .text(try c.decodeIfPresent(String.self, forKey: .text) ?? "")
            case "input_json_delta": self = .inputJSON(try c.decodeIfPresent(String.self, forKey: .partialJSON) ?? "")
            default: self = .other(type: type)
            }
        }
    }
}
