import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// A Claude provider pointed at a fake upstream, for one test.
struct ClaudeHarness {
    static let apiKey = "sk-ant-test-SECRET-key"
    static let requestID = "req42"
    static let chatID = "chatcmpl-req42"

    let upstream: FakeUpstream
    let provider: ClaudeProvider

    /// Runs `body` against a fake upstream answering with `script`, and tears both down afterwards.
    @discardableResult
    static func run<T>(
        timeout: Duration = .seconds(10), defaultMaxTokens: Int? = nil,
        _ script: @escaping FakeUpstream.Script, _ body: (ClaudeHarness) async throws -> T
    ) async throws -> T {
        let upstream = try await FakeUpstream.start(script)
        let clients = UpstreamClients(timeout: timeout)
        let http = UpstreamHTTP(clients: clients, timeout: timeout)
        let harness = ClaudeHarness(
            upstream: upstream,
            provider: ClaudeProvider(http: http, baseURL: upstream.baseURL + "/", apiKey: apiKey, defaultMaxTokens: defaultMaxTokens))
        let result: Result<T, any Error>
        do {
            result = .success(try await body(harness))
        } catch {
            result = .failure(error)
        }
        try await clients.shutdown()
        await upstream.shutdown()
        return try result.get()
    }

    /// The JSON body of the last request the provider sent upstream, keys sorted, for exact comparison.
    var sentBody: String {
        get throws { try ClaudeJSON.canonical(try #require(upstream.requests.last).body) }
    }

    func complete(_ json: String) async throws -> ChatCompletion {
        try await provider.complete(ProviderRequest(chat: try ClaudeJSON.chat(json), requestID: Self.requestID))
    }

    func openStream(_ json: String) async throws -> ChunkStream {
        try await provider.stream(ProviderRequest(chat: try ClaudeJSON.chat(json), requestID: Self.requestID))
    }

    /// Every chunk the client would get from a streamed request.
    func stream(_ json: String) async throws -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        for try await chunk in try await openStream(json) { chunks.append(chunk) }
        return chunks
    }
}

enum ClaudeJSON {
    static func chat(_ json: String) throws -> ChatCompletionRequest {
        try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    /// JSON text with sorted keys, so two bodies compare by structure, not by key order or spacing.
    static func canonical(_ bytes: some Collection<UInt8>) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func canonical(_ text: String) throws -> String { try canonical(Array(text.utf8)) }
}

/// Replies built from `Fixtures/claude/`.
enum ClaudeReply {
    static func sse(_ name: String, pause: Duration? = nil, abortAfter: Int? = nil) throws -> FakeUpstream.Reply {
        .stream(try Fixture.text("claude/\(name)"), contentType: "text/event-stream", pause: pause, abortAfter: abortAfter)
    }

    static func json(_ name: String, status: Int = 200, headers: [String: String] = [:]) throws -> FakeUpstream.Reply {
        .json(try Fixture.text("claude/\(name)"), status: status, headers: headers)
    }

    /// A script that answers every request with the same reply.
    static func always(_ reply: FakeUpstream.Reply) -> FakeUpstream.Script { { _ in reply } }
}

/// The chunks a client expects, in the shape every provider streams (see the stub).
struct ClaudeExpectedChunks {
    let created: Int
    var model = "claude-sonnet-4-5"

    func delta(_ delta: ChunkDelta, finish: FinishReason? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: ClaudeHarness.chatID, created: created, model: model, choices: [ChunkChoice(delta: delta, finishReason: finish)])
    }

    /// The first chunk, carrying the counts of `message_start` for metering a stream cut short (never sent).
    func role(_ prompt: Int, _ completion: Int, cached: Int? = 0, written: Int? = 0) -> ChatCompletionChunk {
        var chunk = delta(ChunkDelta(role: "assistant", content: ""))
        chunk.usageSoFar = Usage(promptTokens: prompt, completionTokens: completion, cachedTokens: cached, cacheWriteTokens: written)
        return chunk
    }
    func text(_ text: String) -> ChatCompletionChunk { delta(ChunkDelta(content: text)) }
    func start(_ index: Int, _ id: String, _ name: String) -> ChatCompletionChunk { delta(ChunkDelta(toolCalls: [.start(index: index, id: id, name: name)])) }
    func arguments(_ index: Int, _ fragment: String) -> ChatCompletionChunk { delta(ChunkDelta(toolCalls: [.arguments(index: index, fragment)])) }
    func finish(_ reason: FinishReason) -> ChatCompletionChunk { delta(ChunkDelta(), finish: reason) }

    func usage(_ prompt: Int, _ completion: Int, cached: Int? = 0, written: Int? = 0) -> ChatCompletionChunk {
        ChatCompletionChunk(
            id: ClaudeHarness.chatID, created: created, model: model, choices: [],
            usage: Usage(promptTokens: prompt, completionTokens: completion, cachedTokens: cached, cacheWriteTokens: written))
    }

    init(_ chunks: [ChatCompletionChunk]) { created = chunks.first?.created ?? 0 }
}

/// A minimal chat request for `model`, optionally streamed.
func claudeChat(_ content: String = "Hi", stream: Bool = false, extra: String = "") -> String {
    #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"\#(content)"}],"stream":\#(stream)\#(extra.isEmpty ? "" : "," + extra)}"#
}
