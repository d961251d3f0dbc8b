import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Logging

/// The steps every generation takes around its answer, whatever API it came in by (chat completions, `/stream`,
/// jobs, `/v1/messages`): the reservation against the tenant's limits, the walk through the model's targets, and
/// the metering of what came back, whole or streamed.
extension ChatGateway {
    /// Resolves `request.model`, reserves the request against the tenant's limits under `key` (the `x-ratelimit-*`
    /// headers go on `timing`) and runs `body` on the targets. A `body` that throws releases the reservation
    /// (settled as nothing); one that returns leaves it to whoever meters the answer (`settle(key:tenantID:_:)`).
    func reserving<T>(
        _ request: ChatCompletionRequest, tenantID: UUID, key: String, timing: RequestTiming?,
        _ body: ([ResolvedTarget]) async throws -> T
    ) async throws -> T {
        let targets = try await catalog.resolve(request.model)
        let ticket = try await reserve(request, targets: targets, tenantID: tenantID, key: key)
        timing?.limitHeaders = ticket?.headers ?? []
        do {
            return try await body(targets)
        } catch {
            if ticket != nil { await settle(key: key, tenantID: tenantID, nil) }
            throw error
        }
    }

    /// Asks each target in turn (`ask`), falling over on connection errors, timeouts, 429 and 5xx (anything
    /// `UpstreamError.allowsFallback` allows) while a target is left; the first answer wins. The refusal that ends
    /// the search is counted, metered as a failed job of `request` under `refusalJobID` (unless `recordsRefusal`
    /// is false: an async job's own row records how it ended), and thrown: Claude's as it came (`ClaudeRefusal`,
    /// relayed unmodified), any other as the gateway's error.
    func firstAnswer<Answer>(
        from targets: [ResolvedTarget], for request: ChatCompletionRequest, tenantID: UUID, started: Date, timing: RequestTiming?,
        recordsRefusal: Bool = true, refusalJobID: UUID = RandomPool.uuid(), logger: Logger,
        ask: (ResolvedTarget) async throws -> Answer
    ) async throws -> (Answer, ResolvedTarget) {
        for (i, target) in targets.enumerated() {
            timing?.answered(provider: target.provider.name, model: target.model)
            let asked = ContinuousClock.now
            do {
                defer { timing?.addUpstream(ContinuousClock.now - asked) }
                return (try await ask(target), target)
            } catch {
                let upstream: UpstreamError
                switch error {
                case let failure as UpstreamError: upstream = failure
                case let refusal as ClaudeRefusal: upstream = refusal.error
                default: throw error
                }
                metrics?.upstreamError(provider: target.provider.name, upstream)
                if upstream.allowsFallback && i < targets.count - 1 {
                    logger.warning("target failed; trying the next", metadata: ["target": "\(target.id)", "error": "\(upstream.kind)"])
                    metrics?.fallback(from: target.provider.name, to: targets[i + 1].provider.name)
                    continue
                }
                if recordsRefusal {
                    record(
                        tenantID: tenantID, target: target, request: request, output: nil, error: "\(upstream.kind)", usage: nil,
                        started: started, jobID: refusalJobID)
                }
                if error is ClaudeRefusal { throw error }
                throw GatewayError.upstream(upstream, provider: target.provider.name)
            }
        }
        throw GatewayError.modelNotFound(request.model)
    }

    /// Meters a relayed stream once it ended — fully, cut by the upstream, or abandoned by the client: one job and
    /// usage row with what it produced (the upstream's usage, or the estimate when it never came), the stream's
    /// reservation (made under its job id) settled with that, and an upstream failure counted. Returns the row and
    /// the usage it metered.
    func meterStream(
        _ relay: StreamRelay, request: ChatCompletionRequest, target: ResolvedTarget, tenantID: UUID, started: Date, jobID: UUID,
        clientGone: Bool, upstreamFailure: UpstreamError?
    ) async -> (generation: Generation, usage: Usage) {
        let usage = relay.usage ?? estimate(request, output: relay.producedText, reported: relay.usageSoFar)
        let failure = clientGone || (Task.isCancelled && upstreamFailure == nil) ? "client disconnected" : upstreamFailure?.kind
        let generation = record(
            tenantID: tenantID, target: target, request: request, output: relay.output, error: failure, usage: usage, started: started,
            jobID: jobID)
        await settle(key: jobID.lowercasedText, tenantID: tenantID, generation)
        if let upstreamFailure { metrics?.upstreamError(provider: target.provider.name, upstreamFailure) }
        return (generation, usage)
    }

    /// Meters a whole answer: one job and usage row (the upstream's usage, or the estimate when it gave none), its
    /// reservation (made under its job id) settled with that. Returns the row and the usage it metered.
    func meterAnswer(
        _ completion: ChatCompletion, request: ChatCompletionRequest, target: ResolvedTarget, tenantID: UUID, started: Date, jobID: UUID
    ) async -> (generation: Generation, usage: Usage) {
        let output = completion.choices.first.map { Self.outputText($0.message) }
        let usage = completion.usage ?? estimate(request, output: output ?? "")
        let generation = record(
            tenantID: tenantID, target: target, request: request, output: output, error: nil, usage: usage, started: started, jobID: jobID)
        await settle(key: jobID.lowercasedText, tenantID: tenantID, generation)
        return (generation, usage)
    }
}
