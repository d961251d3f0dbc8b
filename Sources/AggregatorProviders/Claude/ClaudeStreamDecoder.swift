import AggregatorCore
import AggregatorWire
import NIOCore

/// The bytes of an Anthropic SSE body → OpenAI chunks, for `UpstreamChunkSequence` (which reads the body
/// only as the consumer pulls). Parsing is the SSE parser's job, translation the `ClaudeStreamTranslator`'s.
struct ClaudeStreamDecoder: UpstreamStreamDecoder {
    private var parser = ServerSentEventParser()
    private var translator: ClaudeStreamTranslator

    init(translator: ClaudeStreamTranslator) { self.translator = translator }

    var isComplete: Bool { translator.finished }

    mutating func feed(_ bytes: ByteBuffer?, into chunks: inout [ChatCompletionChunk]) throws {
        let events = try parser.events(from: bytes, provider: "claude")
        for event in events where !translator.finished {
            chunks += try translator.translate(event)
        }
        if bytes == nil { try translator.end() }
    }
}
