import AggregatorCore
import AggregatorWire
import AsyncHTTPClient
import Foundation

/// A local or remote Ollama server, spoken to natively (`/api/chat`, NDJSON) and translated to OpenAI.
public struct OllamaProvider: Provider {
    public let name = "ollama"
    public let capabilities = ProviderCapabilities(streaming: true, tools: true)
    public static let defaultBaseURL = "http://127.0.0.1:11434"

    let http: UpstreamHTTP
    let baseURL: String

    /// - Parameter baseURL: the server root, e.g. `http://127.0.0.1:11434` (no `/api`, no `/v1`).
    public init(http: UpstreamHTTP, baseURL: String = OllamaProvider.defaultBaseURL) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// The installed models, `name:tag` as Ollama lists them.
    public func listModels() async throws -> [String] {
        let response = try await http.send(HTTPClientRequest(url: baseURL + "/api/tags"), wholeRequest: true)
        let tags = try Self.decode(OllamaTags.self, try await http.collect(response.body))
        return tags.models.compactMap { $0.model ?? $0.name }
    }

    public func complete(_ request: ProviderRequest) async throws -> ChatCompletion {
        let response = try await send(try OllamaRequestTranslator.translate(request.chat, stream: false), wholeRequest: true)
        let body = try await http.collect(response.body)
        let answer: OllamaChatResponse
        do {
            answer = try JSONReader.decode(OllamaChatResponse.self, from: body)
        } catch {
            throw UpstreamError.protocolError("ollama sent a body that is not a OllamaChatResponse")
        }
        var translator = Self.translator(for: request)
        return try translator.completion(answer)
    }

    public func stream(_ request: ProviderRequest) async throws -> ChunkStream {
        let body = try OllamaRequestTranslator.translate(request.chat, stream: true)
        let response = try await send(body, wholeRequest: false)
        return ChunkStream(batches: UpstreamChunkSequence(body: response.body, decoder: OllamaStreamDecoder(translator: Self.translator(for: request))))
    }

    private static func translator(for request: ProviderRequest) -> OllamaResponseTranslator {
        OllamaResponseTranslator(id: "chatcmpl-\(request.requestID)", created: Int(Date().timeIntervalSince1970), model: request.model)
    }

    /// Sends a chat request. Ollama's 404 means the model is not pulled; it says so in a bare string, which
    /// becomes OpenAI's `model_not_found` here.
    private func send(_ body: OllamaChatRequest, wholeRequest: Bool) async throws -> HTTPClientResponse {
        do {
            return try await http.send(
                http.jsonRequest(url: baseURL + "/api/chat", body: body.jsonBytes, headers: []), wholeRequest: wholeRequest)
        } catch UpstreamError.status(404, let message, nil, _, _, let retryAfter) {
            throw UpstreamError.status(
                status: 404, message: message, type: "invalid_request_error", code: "model_not_found", param: "model",
                retryAfter: retryAfter)
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw UpstreamError.protocolError("ollama sent a body that is not a \(type)")
        }
    }
}
