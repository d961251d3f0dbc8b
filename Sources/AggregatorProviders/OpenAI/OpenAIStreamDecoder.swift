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
        let bytes = event.dataBytes
        if bytes.starts(with: Self.doneMarker) {
            isComplete = true
            return nil
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        let chunk: ChatCompletionChunk
        do {
            chunk = try JSONReader.decode(ChatCompletionChunk.self, from: bytes)
        } catch {
            // Not a chunk; an error payload with unexpected members still reports the upstream's error.
            if case .object(let object)? = try? JSONReader.decode(JSONValue.self, from: bytes), let error = Self.streamError(object["error"]) {
                throw error
            }
            throw UpstreamError.protocolError("openai sent an event that is not a chat.completion.chunk")
        }
        // Reading is lenient, so an error payload reads as a chunk with an `error` member.
        if let error = Self.streamError(chunk.extra["error"]) { throw error }
        return chunk
    }

    private static let doneMarker = Array("[DONE]".utf8)

    /// The failure a payload's `error` member reports: `{"error":{"message":…,"type":…}}`, or `{"error":"…"}` from
    /// some servers; nil when there is none.
    static func streamError(_ error: JSONValue?) -> UpstreamError? {
        switch error {
        case nil, .null?: return nil
        case .string(let text)?: return .inStream(message: text, type: "server_error")
        case let error?:
            return .inStream(
                message: error["message"]?.stringValue ?? "An error occurred during streaming",
                type: error["type"]?.stringValue ?? "server_error")
        }
    }
}
