import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Logging

/// The Anthropic Messages pipeline below HTTP (SPEC §15), on the chat pipeline's parts: the same model resolution,
/// fallbacks, metering and metrics as `/v1/chat/completions`. A Claude target gets the client's body with only
/// `model` rewritten; any other target gets the request the chat path sends (`AnthropicMessagesRequest.chat`).
struct MessagesGateway: Sendable {
    let chat: ChatGateway

    /// What the first target that accepted the request answered.
    enum Answer: Sendable {
        case claude(ClaudePassThrough)
        case completion(ChatCompletion)
        case stream(ChunkStream)
    }

    /// Reserves the request against the tenant's limits under its job id (SPEC §16, as the chat path does), then
    /// tries each target of the request's model in turn, falling over on connection errors, timeouts, 429 and 5xx
    /// before any byte reached the client (`ChatGateway.firstAnswer`). A refusal that ends the search is metered as
    /// a failed job, its reservation released, and thrown: Claude's as it came (`ClaudeRefusal`), any other as the
    /// gateway's error. Whoever meters an answer settles its reservation (`ChatGateway.settle`).
    func open(
        _ request: AnthropicMessagesRequest, clientHeaders: [(String, String)], tenantID: UUID, jobID: UUID, requestID: String,
        started: Date, timing: RequestTiming, logger: Logger
    ) async throws -> (Answer, ResolvedTarget) {
        try await chat.reserving(request.chat, tenantID: tenantID, key: jobID.lowercasedText, timing: timing) { targets in
            try await chat.firstAnswer(from: targets, for: request.chat, tenantID: tenantID, started: started, timing: timing, logger: logger) {
                try await ask($0, request, clientHeaders: clientHeaders, requestID: requestID)
            }
        }
    }

    private func ask(
        _ target: ResolvedTarget, _ request: AnthropicMessagesRequest, clientHeaders: [(String, String)], requestID: String
    ) async throws -> Answer {
        if let claude = target.provider as? ClaudeProvider {
            return .claude(
                try await claude.passThrough(
                    path: "/v1/messages", body: request.body(model: target.model), clientHeaders: clientHeaders, stream: request.stream))
        }
        var upstream = request.chat
        upstream.model = target.model
        if request.stream {
            upstream.stream = true
            return .stream(try await target.provider.stream(ProviderRequest(chat: upstream, requestID: requestID)))
        }
        upstream.stream = nil
        return .completion(try await target.provider.complete(ProviderRequest(chat: upstream, requestID: requestID)))
    }

    /// `count_tokens`: Claude counts exactly (the body forwarded, model rewritten); every other provider gets the
    /// gateway's estimate, its own counting rule over the translated request. Never metered.
    func countTokens(_ request: AnthropicMessagesRequest, clientHeaders: [(String, String)]) async throws -> (body: [UInt8], provider: String) {
        guard let target = try await chat.catalog.resolve(request.model).first else { throw GatewayError.modelNotFound(request.model) }
        guard let claude = target.provider as? ClaudeProvider else {
            return (AnthropicMessagesAnswer.tokenCount(request.estimatedInputTokens), target.provider.name)
        }
        do {
            let answer = try await claude.passThrough(
                path: "/v1/messages/count_tokens", body: request.body(model: target.model), clientHeaders: clientHeaders, stream: false)
            return (try await answer.collect(), target.provider.name)
        } catch let error as UpstreamError {
            throw GatewayError.upstream(error, provider: target.provider.name)
        }
    }
}
