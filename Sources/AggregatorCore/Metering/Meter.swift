import AggregatorWire
import Foundation

/// Turns one finished (or cut-short) generation into its job and usage rows, priced from a snapshot of the
/// price table.
public struct Meter: Sendable {
    public var storePrompts: Bool

    public init(storePrompts: Bool) { self.storePrompts = storePrompts }

    public struct Outcome: Sendable {
        public var tenantID: UUID
        public var provider: String
        public var model: String
        public var messages: [ChatMessage]
        public var output: String?
        public var error: String?
        public var usage: Usage?
        public var startedAt: Date
        public var finishedAt: Date

        public init(
            tenantID: UUID, provider: String, model: String, messages: [ChatMessage], output: String?, error: String?, usage: Usage?,
            startedAt: Date, finishedAt: Date
        ) {
            self.tenantID = tenantID
            self.provider = provider
            self.model = model
            self.messages = messages
            self.output = output
            self.error = error
            self.usage = usage
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }
    }

    public func generation(_ outcome: Outcome, prices: PriceTable, jobID: UUID = RandomPool.uuid()) -> Generation {
        let tokens = outcome.usage.map(TokenCounts.init) ?? .zero
        let priced = prices.cost(provider: outcome.provider, model: outcome.model, tokens: tokens)
        let job = Job(
            id: jobID, tenantID: outcome.tenantID, type: .text, status: outcome.error == nil ? .completed : .failed,
            // Without STORE_PROMPTS the messages are never written out.
            input: storePrompts ? Self.inputText(outcome.messages) : "[redacted]",
            result: outcome.output.map { storePrompts ? $0 : "[redacted]" }, error: outcome.error,
            provider: outcome.provider, model: outcome.model, tokensIn: tokens.tokensIn, tokensOut: tokens.tokensOut,
            cacheReadTokens: tokens.cacheRead, cacheWriteTokens: tokens.cacheWrite, cost: priced.cost,
            createdAt: outcome.startedAt, updatedAt: outcome.finishedAt, startedAt: outcome.startedAt, finishedAt: outcome.finishedAt)
        let usage = outcome.usage.map { _ in
            UsageRecord(
                tenantID: outcome.tenantID, jobID: jobID, provider: outcome.provider, model: outcome.model, tokensIn: tokens.tokensIn,
                tokensOut: tokens.tokensOut, cacheReadTokens: tokens.cacheRead, cacheWriteTokens: tokens.cacheWrite, cost: priced.cost,
                unpriced: priced.unpriced, createdAt: outcome.finishedAt)
        }
        return Generation(job: job, usage: usage)
    }

    /// The messages as stored in a job row: the request's `messages` array.
    static func inputText(_ messages: [ChatMessage]) -> String {
        var writer = JSONWriter(capacity: 512)
        writer.array { w in for m in messages { m.write(to: &w) } }
        return writer.string
    }
}
