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
        do {
            if let error = try Self.streamError(data) { throw error }
            return try JSONReader.decode(ChatCompletionChunk.self, from: Array(data.utf8))
        } catch let error as UpstreamError {
            throw error
        } catch {
            throw UpstreamError.protocolError("openai sent an event that is not a chat.completion.chunk")
        }
    }

    /// The failure a `data:` payload reports: `{"error":{"message":…,"type":…}}`, or `{"error":"…"}` from some
    /// servers. A quoted `"error"` followed by `:` can only be an object key (quotes inside strings are escaped),
    /// so payloads without it — every normal chunk — are not parsed twice.
    static func streamError(_ data: String) throws -> UpstreamError? {
        guard data.utf8.firstRange(of: #""error""#.utf8) != nil,
            case .object(let object) = try JSONReader.decode(JSONValue.self, from: Array(data.utf8))
        else { return nil }
        switch object["error"] {
        case nil, .null?: return nil
        case .string(let text)?: return .inStream(message: text, type: "server_error")
        case let error?:
            return .inStream(
                message: error["message"]?.stringValue ?? "An error occurred during streaming",
                type: error["type"]?.stringValue ?? "server_error")
        }
    }
}
