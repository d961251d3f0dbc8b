import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// A fake upstream and the HTTP plumbing a provider under test talks to it with.
struct UpstreamHarness {
    let upstream: FakeUpstream
    let http: UpstreamHTTP

    var lastBody: String { upstream.requests.last.map(\.bodyText) ?? "" }

    /// Runs `body` against a fresh fake upstream answering with `script`, and shuts both down afterwards.
    static func run<T>(
        timeout: Duration = .seconds(5), _ script: @escaping FakeUpstream.Script,
        _ body: (UpstreamHarness) async throws -> T
    ) async throws -> T {
        let upstream = try await FakeUpstream.start(script)
        let clients = UpstreamClients(timeout: timeout)
        let harness = UpstreamHarness(upstream: upstream, http: UpstreamHTTP(clients: clients, timeout: timeout))
        do {
            let result = try await body(harness)
            try await clients.shutdown()
            await upstream.shutdown()
            return result
        } catch {
            try? await clients.shutdown()
            await upstream.shutdown()
            throw error
        }
    }
}

/// A scripted reply replaying a fixture file.
enum Replay {
    static func json(_ fixture: String, status: Int = 200, headers: [String: String] = [:]) throws -> FakeUpstream.Reply {
        .json(try Fixture.text(fixture), status: status, headers: headers)
    }

    static func sse(_ fixture: String, abortAfter: Int? = nil) throws -> FakeUpstream.Reply {
        .stream(try Fixture.text(fixture), contentType: "text/event-stream", abortAfter: abortAfter)
    }

    static func ndjson(_ fixture: String, abortAfter: Int? = nil) throws -> FakeUpstream.Reply {
        .stream(try Fixture.text(fixture), contentType: "application/x-ndjson", abortAfter: abortAfter)
    }

    /// The fixture's first `pieces` events or lines, then a pause far longer than the test's timeout.
    static func stalling(_ fixture: String, contentType: String, after pieces: Int) throws -> FakeUpstream.Reply {
        var reply = FakeUpstream.Reply.stream(try Fixture.text(fixture), contentType: contentType)
        reply.parts = Array(reply.parts.prefix(pieces)) + [.pause(.seconds(30))] + reply.parts.dropFirst(pieces)
        return reply
    }
}

/// A client request as the gateway hands it to a provider (model already the provider's own name).
func providerRequest(_ json: String, id: String = "req-1") throws -> ProviderRequest {
    ProviderRequest(chat: try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8)), requestID: id)
}

/// Every chunk of a stream, then the error that ended it, if one did.
func drain(_ stream: ChunkStream) async -> (chunks: [ChatCompletionChunk], error: (any Error)?) {
    var chunks: [ChatCompletionChunk] = []
    do {
        for try await chunk in stream { chunks.append(chunk) }
        return (chunks, nil)
    } catch {
        return (chunks, error)
    }
}

/// JSON text with sorted keys, so bodies compare by content rather than by key order.
func canonicalJSON(_ text: String) -> String {
    guard let value = JSONValue(parsing: text) else { return "not JSON: " + text }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "unencodable"
}

/// The `error.message` of an OpenAI error fixture, or the bare `error` string of an Ollama one.
func fixtureErrorMessage(_ fixture: String) throws -> String {
    let body = JSONValue(parsing: try Fixture.text(fixture))
    return body?["error"]?["message"]?.stringValue ?? body?["error"]?.stringValue ?? ""
}

func isConnectionError(_ error: (any Error)?) -> Bool {
    if case .connection? = error as? UpstreamError { return true }
    return false
}

/// One upstream error status and what the provider must throw for it.
struct StatusCase: Sendable, CustomTestStringConvertible {
    var status: Int
    var fixture: String
    var type: String?
    var code: String?
    var param: String?
    var retryAfter: String?

    var testDescription: String { "\(status)" }

    var headers: [String: String] { retryAfter.map { ["retry-after": $0] } ?? [:] }

    func expected() throws -> UpstreamError {
        .status(status: status, message: try fixtureErrorMessage(fixture), type: type, code: code, param: param, retryAfter: retryAfter)
    }
}

/// The typed part of answers and chunks: what the fixture-by-fixture checks compare. The members passed
/// through untyped (`obfuscation`, `annotations`, token details, …) are checked by `OpenAIPassThroughTests`.
extension Usage {
    var counts: Usage { Usage(promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens) }
}

extension ChatCompletionChunk {
    var typedOnly: ChatCompletionChunk {
        var chunk = self
        chunk.extra = JSONObject()
        chunk.usage = usage?.counts
        for i in chunk.choices.indices { chunk.choices[i].delta.extra = JSONObject() }
        return chunk
    }
}

extension [ChatCompletionChunk] {
    var typedOnly: [ChatCompletionChunk] { map(\.typedOnly) }
}
