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
        do {
            if let error = try Self.streamError(bytes) { throw error }
            return try JSONReader.decode(ChatCompletionChunk.self, from: bytes)
        } catch let error as UpstreamError {
            throw error
        } catch {
            throw UpstreamError.protocolError("openai sent an event that is not a chat.completion.chunk")
        }
    }

    private static let doneMarker = Array("[DONE]".utf8)
    private static let errorKey = Array(#""error""#.utf8)

    /// The failure a `data:` payload reports: `{"error":{"message":…,"type":…}}`, or `{"error":"…"}` from some
    /// servers. A quoted `"error"` can only be a key or a whole string value (quotes inside strings are escaped),
    /// so payloads without it — every normal chunk — are not parsed twice.
    static func streamError(_ bytes: [UInt8]) throws -> UpstreamError? {
        guard contains(bytes, errorKey), case .object(let object) = try JSONReader.decode(JSONValue.self, from: bytes) else { return nil }
        switch object["error"] {
        case nil, .null?: return nil
        case .string(let text)?: return .inStream(message: text, type: "server_error")
        case let error?:
            return .inStream(
                message: error["message"]?.stringValue ?? "An error occurred during streaming",
                type: error["type"]?.stringValue ?? "server_error")
        }
    }

    /// Whether `needle` occurs in `haystack` (a plain loop: the generic `firstRange(of:)` cost a third of the
    /// streaming path's CPU).
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
