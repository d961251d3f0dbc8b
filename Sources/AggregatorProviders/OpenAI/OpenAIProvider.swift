import AggregatorCore
import AggregatorWire
import AsyncHTTPClient
import Foundation

/// OpenAI's Chat Completions API, or any server that speaks it: the client's request goes through as it came
/// (unknown fields included) and the answer comes back as OpenAI sent it.
public struct OpenAIProvider: Provider {
    public let name = "openai"
    public let capabilities = ProviderCapabilities(streaming: true, tools: true)
    public static let defaultBaseURL = "https://api.openai.com/v1"

    let http: UpstreamHTTP
    let baseURL: String
    let apiKey: String

    /// - Parameters:
    ///   - baseURL: the API root, `https://api.openai.com/v1` by default; `/chat/completions` and `/models` are
    ///     appended.
    ///   - apiKey: sent as `Authorization: Bearer`.
    public init(http: UpstreamHTTP, baseURL: String = OpenAIProvider.defaultBaseURL, apiKey: String) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
    }

    public func listModels() async throws -> [String] {
        var request = HTTPClientRequest(url: baseURL + "/models")
        request.headers.add(name: "authorization", value: "Bearer \(apiKey)")
        let response = try await http.send(request, wholeRequest: true)
        let body = try await http.collect(response.body)
        return try Self.decode(OpenAIModelList.self, body).data.map(\.id)
    }

    public func complete(_ request: ProviderRequest) async throws -> ChatCompletion {
        let body = Self.plainBody(request.chat)
        let response = try await http.send(chatRequest(body), wholeRequest: true)
        let answer = try await http.collect(response.body)
        do {
            return try JSONReader.decode(ChatCompletion.self, from: answer)
        } catch {
            throw UpstreamError.protocolError("openai sent a body that is not a ChatCompletion")
        }
    }

    public func stream(_ request: ProviderRequest) async throws -> ChunkStream {
        let body = Self.streamingBody(request.chat)
        let response = try await http.send(chatRequest(body), wholeRequest: false)
        return ChunkStream(batches: UpstreamChunkSequence(body: response.body, decoder: OpenAIStreamDecoder()))
    }

    /// The request for a streamed answer: always with `stream_options.include_usage`, so the gateway can meter
    /// every stream; it drops the usage chunk for clients that did not ask for it.
    static func streamingBody(_ chat: ChatCompletionRequest) -> ChatCompletionRequest {
        var chat = fitted(chat)
        chat.stream = true
        chat.streamOptions = StreamOptions(includeUsage: true)
        return chat
    }

    /// The request for a whole answer: never `stream:true`, and no `stream_options`, which OpenAI rejects
    /// without `stream` (WIRE §5.15).
    static func plainBody(_ chat: ChatCompletionRequest) -> ChatCompletionRequest {
        var chat = fitted(chat)
        if chat.stream != nil { chat.stream = false }
        chat.streamOptions = nil
        return chat
    }

    /// A `reasoning_effort` the gateway derived (from the Messages API's `thinking`, which Claude Code sends on every
    /// request) goes only to models that take it: OpenAI's other models answer 400 to it. One the client sent goes
    /// through as it came.
    static func fitted(_ chat: ChatCompletionRequest) -> ChatCompletionRequest {
        guard chat.reasoningEffortIsTranslated, !takesReasoningEffort(chat.model) else { return chat }
        var chat = chat
        chat.reasoningEffort = nil
        return chat
    }

    /// OpenAI's reasoning models: the o-series, GPT-5 (not its `-chat` variants) and gpt-oss.
    static func takesReasoningEffort(_ model: String) -> Bool {
        let name = model.split(separator: "/").last.map { $0.lowercased() } ?? ""
        if name.hasPrefix("gpt-5") { return !name.contains("-chat") }
        return ["o1", "o3", "o4", "gpt-oss"].contains { name == $0 || name.hasPrefix($0 + "-") }
    }

    private func chatRequest(_ chat: ChatCompletionRequest) -> HTTPClientRequest {
        http.jsonRequest(
            url: baseURL + "/chat/completions", body: chat.jsonBytes,
            headers: [("authorization", "Bearer \(apiKey)"), ("accept", chat.isStreaming ? "text/event-stream" : "application/json")])
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw UpstreamError.protocolError("openai sent a body that is not a \(type)")
        }
    }
}

/// `GET /models`: only the ids are read, so servers that leave out `created` or `owned_by` still work.
struct OpenAIModelList: Decodable {
    struct Entry: Decodable { var id: String }
    var data: [Entry]
}
