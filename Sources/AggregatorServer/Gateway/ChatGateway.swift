import AggregatorCore
import AggregatorWire
import Foundation
import Logging

/// The chat pipeline below HTTP: resolve the model, try each target in order (falling over on connection
/// errors, timeouts, 429 and 5xx before anything reached the client), and meter what happened.
public struct ChatGateway: Sendable {
    let catalog: ModelCatalog
    let directory: Directory
    let recorder: UsageRecorder
    let meter: Meter
    let metrics: GatewayMetrics?
    /// Per-tenant limits (SPEC §16); a tenant without limits never reaches it.
    let limiter: (any Limiter)?

    init(
        catalog: ModelCatalog, directory: Directory, recorder: UsageRecorder, meter: Meter, metrics: GatewayMetrics?,
        limiter: (any Limiter)? = nil
    ) {
        self.catalog = catalog
        self.directory = directory
        self.recorder = recorder
        self.meter = meter
        self.metrics = metrics
        self.limiter = limiter
    }

    /// Output tokens reserved for a request that does not say how many it wants.
    static let defaultOutputReservation = 4_096

    /// Reserves the request against the tenant's limits before it goes upstream (nil: the tenant has none). The
    /// estimate is the prompt's tokens plus `max_tokens` (or a default), priced at the dearest of the route's targets.
    func reserve(_ request: ChatCompletionRequest, targets: [ResolvedTarget], tenantID: UUID, key: String) async throws -> LimitTicket? {
        guard let limiter, let tenant = directory.tenant(id: tenantID), !tenant.limits.isEmpty else { return nil }
        let tokensIn = TokenEstimator.promptTokens(request.messages)
        let tokensOut = request.outputTokenLimit ?? Self.defaultOutputReservation
        let prices = directory.prices
        let cost = targets.map { prices.cost(provider: $0.provider.name, model: $0.model, tokensIn: tokensIn, tokensOut: tokensOut).cost }.max() ?? .zero
        do {
            return try await limiter.reserve(key: key, tenant: tenant, estimate: LimitEstimate(tokens: tokensIn + tokensOut, cost: cost))
        } catch let refusal as GatewayError {
            metrics?.limitRejected(refusal)
            throw refusal
        }
    }

    /// The reservation of `key` becomes what `generation` used (nothing, when nil).
    func settle(key: String, tenantID: UUID, _ generation: Generation?) async {
        guard let limiter, let tenant = directory.tenant(id: tenantID), !tenant.limits.isEmpty else { return }
        let usage = generation?.usage
        await limiter.settle(key: key, tenantID: tenantID, tokens: (usage?.tokensIn ?? 0) + (usage?.tokensOut ?? 0), cost: usage?.cost ?? .zero)
    }

    /// A non-streaming answer and the provider that gave it.
    func complete(
        _ request: ChatCompletionRequest, tenantID: UUID, requestID: String, timing: RequestTiming? = nil, logger: Logger
    ) async throws -> (ChatCompletion, Generation) {
        let jobID = RandomPool.uuid()
        let started = Date()
        var upstreamRequest = request
        upstreamRequest.stream = false
        upstreamRequest.streamOptions = nil
        let (completion, target) = try await reserving(request, tenantID: tenantID, key: jobID.lowercasedText, timing: timing) { targets in
            try await firstAnswer(
                from: targets, for: request, tenantID: tenantID, started: started, timing: timing, refusalJobID: jobID, logger: logger
            ) { target in
                upstreamRequest.model = target.model
                return try await target.provider.complete(ProviderRequest(chat: upstreamRequest, requestID: requestID))
            }
        }
        let (generation, _) = await meterAnswer(completion, request: request, target: target, tenantID: tenantID, started: started, jobID: jobID)
        return (completion, generation)
    }

    /// An open upstream stream and its target, after falling over past targets that failed before streaming.
    /// A target that refuses before streaming is metered as a failed job, like a refused plain call, unless
    /// `recordsRefusal` is false (an async job, whose own row records how it ended).
    /// The reservation against the tenant's limits is made under `limitKey`; whoever meters the stream settles it
    /// (`settle(key:_:)`); a stream that never opened is settled here, as nothing.
    func openStream(
        _ request: ChatCompletionRequest, tenantID: UUID, requestID: String, started: Date, timing: RequestTiming? = nil,
        recordsRefusal: Bool = true, limitKey: String, logger: Logger
    ) async throws -> (ChunkStream, ResolvedTarget) {
        var upstreamRequest = request
        upstreamRequest.stream = true
        return try await reserving(request, tenantID: tenantID, key: limitKey, timing: timing) { targets in
            try await firstAnswer(
                from: targets, for: request, tenantID: tenantID, started: started, timing: timing, recordsRefusal: recordsRefusal,
                logger: logger
            ) { target in
                upstreamRequest.model = target.model
                return try await target.provider.stream(ProviderRequest(chat: upstreamRequest, requestID: requestID))
            }
        }
    }

    /// Meters one generation (off the response path: the recorder writes it in a batch).
    @discardableResult
    func record(
        tenantID: UUID, target: ResolvedTarget, request: ChatCompletionRequest, output: String?, error: String?, usage: Usage?,
        started: Date, jobID: UUID = RandomPool.uuid()
    ) -> Generation {
        let generation = measure(
            tenantID: tenantID, target: target, request: request, output: output, error: error, usage: usage, started: started, jobID: jobID)
        recorder.record(generation)
        return generation
    }

    /// Prices one generation and counts its tokens, without recording it (an async job stores its own).
    func measure(
        tenantID: UUID, target: ResolvedTarget, request: ChatCompletionRequest, output: String?, error: String?, usage: Usage?,
        started: Date, jobID: UUID
    ) -> Generation {
        let generation = meter.generation(
            Meter.Outcome(
                tenantID: tenantID, provider: target.provider.name, model: target.model, messages: request.messages,
                output: output, error: error, usage: usage, startedAt: started, finishedAt: Date()),
            prices: directory.prices, jobID: jobID)
        if let usage = generation.usage {
            metrics?.tokens(provider: target.provider.name, model: target.model, usage.tokens)
        }
        return generation
    }

    /// Usage for a generation whose upstream did not report it (a stream cut short): the stub's counting rule,
    /// except for what the upstream did report before it stopped (`reported`, e.g. Claude's `message_start`): its
    /// prompt, cache read and cache write counts are the provider's own, and its completion count is the larger of
    /// the two.
    func estimate(_ request: ChatCompletionRequest, output: String, reported: Usage? = nil) -> Usage {
        let completion = output.isEmpty ? 0 : TokenEstimator.tokens(output)
        guard let reported else {
            return Usage(promptTokens: TokenEstimator.promptTokens(request.messages), completionTokens: completion)
        }
        return Usage(
            promptTokens: reported.promptTokens, completionTokens: max(reported.completionTokens, completion),
            cachedTokens: reported.cachedTokens, cacheWriteTokens: reported.cacheWriteTokens)
    }

    static func outputText(_ message: AssistantMessage) -> String {
        if let content = message.content, !content.isEmpty { return content }
        if let calls = message.toolCalls, !calls.isEmpty {
            var writer = JSONWriter()
            writer.array { w in for c in calls { c.write(to: &w) } }
            return writer.string
        }
        return message.content ?? ""
    }
}

extension UpstreamError {
    /// A short, secret-free description for logs and job rows.
    var kind: String {
        switch self {
        case .status(let status, let message, _, _, _, _): "upstream status \(status): \(message.prefix(200))"
        case .connection(let detail): "connection failed: \(detail)"
        case .timeout: "timed out"
        case .protocolError(let detail): "unreadable answer: \(detail)"
        case .inStream(let message, _): "error in stream: \(message.prefix(200))"
        }
    }
}
