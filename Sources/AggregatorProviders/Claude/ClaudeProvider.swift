import AggregatorCore
import AggregatorWire
import AsyncHTTPClient
import Foundation
import NIOCore

/// Anthropic's Messages API behind the OpenAI face (WIRE §2): translates requests, answers and streams.
///
/// Configure it from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
/// The key is sent as `x-api-key` and never appears in an error or a log.
public struct ClaudeProvider: Provider {
    public let name = "claude"
    public let capabilities = ProviderCapabilities(streaming: true, tools: true)
    public static let defaultBaseURL = "https://api.anthropic.com"
    public static let apiVersion = "2023-06-01"

    let http: UpstreamHTTP
    let baseURL: String
    let apiKey: String
    let translator: ClaudeRequestTranslator

    /// - Parameter defaultMaxTokens: `max_tokens` for requests that set no cap (Anthropic requires one).
    ///   nil: the model's largest output when the model is known, else 4096.
    public init(http: UpstreamHTTP, baseURL: String = ClaudeProvider.defaultBaseURL, apiKey: String, defaultMaxTokens: Int? = nil) {
        self.http = http
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.translator = ClaudeRequestTranslator(defaultMaxTokens: defaultMaxTokens)
    }

    public func listModels() async throws -> [String] {
        var ids: [String] = []
        var after: String?
        do {
            repeat {
                var request = HTTPClientRequest(url: baseURL + "/v1/models?limit=1000" + (after.map { "&after_id=\($0)" } ?? ""))
                request.method = .GET
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                let response = try await http.send(request, wholeRequest: true)
                let page = try decode(ClaudeWire.ModelPage.self, try await http.collect(response.body))
                ids += page.data.map(\.id)
                after = page.hasMore == true ? page.lastID : nil
            } while after != nil
        } catch UpstreamError.status(404, _, _, _, _, _) where ids.isEmpty {
            return ClaudeModels.known
        }
        return ids
    }

    public func complete(_ request: ProviderRequest) async throws -> ChatCompletion {
        let translation = try translator.translate(request.chat, stream: false)
        let response = try await http.send(messagesRequest(translation.request), wholeRequest: true)
        let body = try await http.collect(response.body)
        let answer: ClaudeWire.Response
        do {
            answer = try JSONReader.decode(ClaudeWire.Response.self, from: body)
        } catch {
            throw UpstreamError.protocolError("unreadable answer from claude")
        }
        let translate = ClaudeResponseTranslator(
            id: "chatcmpl-\(request.requestID)", created: Self.now(), model: request.model, toolNames: translation.toolNames,
            jsonTool: translation.jsonTool)
        return translate.translate(answer)
    }

    public func stream(_ request: ProviderRequest) async throws -> ChunkStream {
        let translation = try translator.translate(request.chat, stream: true)
        let response = try await http.send(messagesRequest(translation.request), wholeRequest: false)
        let translator = ClaudeStreamTranslator(
            id: "chatcmpl-\(request.requestID)", created: Self.now(), model: request.model, toolNames: translation.toolNames,
            jsonTool: translation.jsonTool)
        return ChunkStream(batches: UpstreamChunkSequence(body: response.body, decoder: ClaudeStreamDecoder(translator: translator)))
    }

    private var headers: [(String, String)] {
        [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion)]
    }

    private func messagesRequest(_ body: ClaudeWire.Request) -> HTTPClientRequest {
        http.jsonRequest(url: baseURL + "/v1/messages", body: body.jsonBytes, headers: headers)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw UpstreamError.protocolError("unreadable answer from claude")
        }
    }

    private static func now() -> Int { Int(Date().timeIntervalSince1970) }
}
