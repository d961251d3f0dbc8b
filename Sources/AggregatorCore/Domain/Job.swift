import Foundation

public enum JobStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending, processing, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

public enum JobType: String, Sendable, Hashable, CaseIterable, Codable {
    case text, image
}

public struct Job: Sendable, Hashable, Identifiable, Codable {
    public var id: UUID
    public var tenantID: UUID
    public var type: JobType
    public var status: JobStatus
    public var input: String
    public var result: String?
    public var error: String?
    public var provider: String?
    public var model: String?
    public var tokensIn: Int
    public var tokensOut: Int
    /// Parts of `tokensIn` read from and written to a prompt cache.
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    public var cost: Money
    /// How many times a worker took the job (SPEC §8): the fencing token of the current attempt's writes.
    public var attempts: Int
    /// Attempts that ended in a transient failure or lost their worker; the job fails when they reach the limit.
    public var failures: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(
        id: UUID = RandomPool.uuid(), tenantID: UUID, type: JobType = .text, status: JobStatus, input: String,
        result: String? = nil, error: String? = nil, provider: String? = nil, model: String? = nil,
        tokensIn: Int = 0, tokensOut: Int = 0, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0, cost: Money = .zero,
        attempts: Int = 0, failures: Int = 0, createdAt: Date, updatedAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.type = type
        self.status = status
        self.input = input
        self.result = result
        self.error = error
        self.provider = provider
        self.model = model
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cost = cost
        self.attempts = attempts
        self.failures = failures
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

public struct UsageRecord: Sendable, Hashable, Identifiable, Codable {
    public var id: UUID
    public var tenantID: UUID
    public var jobID: UUID?
    public var provider: String
    public var model: String?
    public var tokensIn: Int
    public var tokensOut: Int
    /// Parts of `tokensIn` read from and written to a prompt cache.
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    public var cost: Money
    /// No price row matched: cost is 0 and finance should look.
    public var unpriced: Bool
    /// The async job's attempt that generated it (0 for a `/v1` or `/stream` call): each attempt is metered once.
    public var attempt: Int
    public var createdAt: Date

    public init(
        id: UUID = RandomPool.uuid(), tenantID: UUID, jobID: UUID?, provider: String, model: String?, tokensIn: Int,
        tokensOut: Int, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0, cost: Money, unpriced: Bool, attempt: Int = 0, createdAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.jobID = jobID
        self.provider = provider
        self.model = model
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cost = cost
        self.unpriced = unpriced
        self.attempt = attempt
        self.createdAt = createdAt
    }
}

/// One finished generation as the metering path hands it to the store: its job row and, when it produced
/// usage, its usage row. Written together, exactly once (keyed by the job id).
extension UsageRecord {
    /// The row's token counts, as they were priced.
    public var tokens: TokenCounts {
        TokenCounts(tokensIn: tokensIn, tokensOut: tokensOut, cacheRead: cacheReadTokens, cacheWrite: cacheWriteTokens)
    }
}

public struct Generation: Sendable, Hashable {
    public var job: Job
    public var usage: UsageRecord?

    public init(job: Job, usage: UsageRecord?) {
        self.job = job
        self.usage = usage
    }
}
