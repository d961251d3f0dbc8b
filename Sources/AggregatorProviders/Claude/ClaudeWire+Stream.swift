import AggregatorWire

extension ClaudeWire {
    /// One event of a streamed answer (WIRE §2.4). Event types we do not know read as `.unknown`.
    enum StreamEvent: Sendable {
        case messageStart(Response)
        case contentBlockStart(index: Int, block: ContentBlock)
        case contentBlockDelta(index: Int, delta: Delta)
        case contentBlockStop(index: Int)
        case messageDelta(stopReason: String?, usage: Usage?)
        case messageStop
        case ping
        case error(ErrorDetail)
        case unknown(String)

        /// The event types this reader knows; data of any other type is ignored, not an error.
        static let knownTypes: Set<String> = [
            "message_start", "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop", "ping", "error",
        ]
    }

    /// A `content_block_delta`'s delta.
    enum Delta: Sendable, Equatable {
        case text(String)
        case inputJSON(String)
        /// thinking, signature, citations and any newer kind: not part of the OpenAI answer.
        case other(type: String)
    }

    /// The members of either kind of `delta` (a content block's, or `message_delta`'s), read before the event's
    /// `type` is known: members may come in any order.
    fileprivate struct DeltaMembers: JSONReadable {
        var type: String?
        var text: String?
        var partialJSON: String?
        var stopReason: String?

        init(reading r: inout JSONReader) throws {
            try r.readObject { r, key in
                switch key {
                case "type": type = try r.readOptionalString()
                case "text": text = try r.readOptionalString()
                case "partial_json": partialJSON = try r.readOptionalString()
                case "stop_reason": stopReason = try r.readOptionalString()
                default: try r.skipValue()
                }
            }
        }
    }
}

extension ClaudeWire.StreamEvent: JSONReadable {
    init(reading r: inout JSONReader) throws {
        var type: String?, index: Int?, message: ClaudeWire.Response?, block: ClaudeWire.ContentBlock?
        var delta: ClaudeWire.DeltaMembers?, usage: ClaudeWire.Usage?, error: ClaudeWire.ErrorDetail?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readString()
            case "index": index = try r.readOptionalInt()
            case "message": message = try r.readOptional(ClaudeWire.Response.self)
            case "content_block": block = try r.readOptional(ClaudeWire.ContentBlock.self)
            case "delta": delta = try r.readOptional(ClaudeWire.DeltaMembers.self)
            case "usage": usage = try r.readOptional(ClaudeWire.Usage.self)
            case "error": error = try r.readOptional(ClaudeWire.ErrorDetail.self)
            default: try r.skipValue()
            }
        }
        guard let type else { throw JSONReader.Error("a stream event has no type") }
        func need<T>(_ value: T?, _ name: String) throws -> T {
            guard let value else { throw JSONReader.Error("a \(type) event has no \(name)") }
            return value
        }
        switch type {
        case "message_start": self = .messageStart(try need(message, "message"))
        case "content_block_start": self = .contentBlockStart(index: try need(index, "index"), block: try need(block, "content_block"))
        case "content_block_delta":
            let members = try need(delta, "delta")
            let kind = try need(members.type, "delta type")
            let value: ClaudeWire.Delta =
                switch kind {
                case "text_delta": .text(members.text ?? "")
                case "input_json_delta": .inputJSON(members.partialJSON ?? "")
                default: .other(type: kind)
                }
            self = .contentBlockDelta(index: try need(index, "index"), delta: value)
        case "content_block_stop": self = .contentBlockStop(index: try need(index, "index"))
        case "message_delta": self = .messageDelta(stopReason: delta?.stopReason, usage: usage)
        case "message_stop": self = .messageStop
        case "ping": self = .ping
        case "error": self = .error(try need(error, "error"))
        default: self = .unknown(type)
        }
    }
}
