import AggregatorCore
import AggregatorWire
import Foundation
import NIOCore

/// Turns the bytes of an OpenAI SSE stream into chunks, passed through as OpenAI sent them (id, model,
/// `system_fingerprint`, tool-call fragments and the `choices:[]` usage chunk untouched).
///
/// The stream is complete only at `data: [DONE]`; a body that ends before it is a broken stream, never a
/// finished answer. A `data:` payload with an `error` member is an upstream failure after the 200.
struct OpenAIStreamDecoder: UpstreamStreamDecoder {
    private var parser = ServerSentEventParser()
    private(set) var isComplete = false

    mutating func feed(_ bytes: ByteBuffer?, into chunks: inout [ChatCompletionChunk]) throws {
        let events = try parser.events(from: bytes, provider: "openai")
        for event in events {
            if isComplete { return }
            if let chunk = try chunk(event) { chunks.append(chunk) }
        }
        if bytes == nil, !isComplete {
            throw UpstreamError.connection("the openai stream ended before [DONE]")
        }
    }

    private mutating func chunk(_ event: ServerSentEvent) throws -> ChatCompletionChunk? {
        let data = event.data
        if data.hasPrefix("[DONE]") {
            isComplete = true
            return nil
        }
        if data.allSatisfy(\.isWhitespace) { return nil }
        let decoded: OpenAIStreamEvent
        do {
            decoded = try JSONDecoder().decode(OpenAIStreamEvent.self, from: Data(data.utf8))
        } catch {
            throw UpstreamError.protocolError("openai sent an event that is not a chat.completion.chunk")
        }
        switch decoded {
        case .chunk(let chunk): return chunk
        case .error(let message, let type): throw UpstreamError.inStream(message: message, type: type)
        }
    }
}

/// One `data:` payload: a chunk, or an error object (`{"error":{…}}`, or `{"error":"…"}` from some servers).
enum OpenAIStreamEvent: Decodable {
    case chunk(ChatCompletionChunk)
    case error(message: String, type: String)

    private enum Keys: String, CodingKey { case error }
    private enum ErrorKeys: String, CodingKey { case message, type }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        guard c.contains(.error), try !c.decodeNil(forKey: .error) else {
            self = .chunk(try ChatCompletionChunk(from: decoder))
            return
        }
        if let text = try? c.decode(String.self, forKey: .error) {
            self = .error(message: text, type: "server_error")
            return
        }
        let error = try c.nestedContainer(keyedBy: ErrorKeys.self, forKey: .error)
        self = .error(
            message: (try? error.decodeIfPresent(String.self, forKey: .message)) ?? "An error occurred during streaming",
            type: (try? error.decodeIfPresent(String.self, forKey: .type)) ?? "server_error")
    }
}
