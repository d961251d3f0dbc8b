import Foundation

/// Filters of the GraphQL `jobs` query (`tenantID` is honoured for the admin only; the caller enforces it).
public struct JobFilter: Sendable, Hashable {
    public var status: JobStatus?
    public var type: JobType?
    public var provider: String?
    public var model: String?
    public var from: Date?
    public var to: Date?
    /// Case-insensitive substring of the input or result.
    public var search: String?
    public var tenantID: UUID?

    public init(
        status: JobStatus? = nil, type: JobType? = nil, provider: String? = nil, model: String? = nil, from: Date? = nil, to: Date? = nil,
        search: String? = nil, tenantID: UUID? = nil
    ) {
        self.status = status
        self.type = type
        self.provider = provider
        self.model = model
        self.from = from
        self.to = to
        self.search = search
        self.tenantID = tenantID
    }
}

/// Position in the newest-first job list: stable under concurrent inserts (new jobs land before page one).
public struct JobCursor: Sendable, Hashable {
    public var createdAt: Date
    public var id: UUID

    public init(createdAt: Date, id: UUID) {
        self.createdAt = createdAt
        self.id = id
    }

    /// Opaque text form for clients.
    /// Opaque text form for clients (microseconds, the finest precision a store keeps).
    public var encoded: String {
        let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros):\(id.lowercasedText)".utf8).base64EncodedString()
    }

    public init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.createdAt = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}

public struct JobPage: Sendable {
    public var jobs: [Job]
    public var hasNextPage: Bool
    public var totalCount: Int

    public init(jobs: [Job], hasNextPage: Bool, totalCount: Int) {
        self.jobs = jobs
        self.hasNextPage = hasNextPage
        self.totalCount = totalCount
    }
}

public enum UsageGroupBy: String, Sendable, Hashable, CaseIterable {
    case provider, model, tenant, day
}

/// One group of `usageSummary`: the grouped fields are set, the others nil.
public struct UsageAggregate: Sendable, Hashable {
    public var tenantID: UUID?
    public var provider: String?
    public var model: String?
    /// `YYYY-MM-DD`, UTC.
    public var day: String?
    public var requests: Int
    public var tokensIn: Int
    public var tokensOut: Int
    /// Parts of `tokensIn` read from and written to a prompt cache.
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    public var cost: Money

    public init(
        tenantID: UUID? = nil, provider: String? = nil, model: String? = nil, day: String? = nil, requests: Int, tokensIn: Int, tokensOut: Int,
        cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0, cost: Money
    ) {
        self.tenantID = tenantID
        self.provider = provider
        self.model = model
        self.day = day
        self.requests = requests
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cost = cost
    }
}

/// How a running job shows it is alive, so that a crashed worker's job is run again while one that is running
/// in another process is not.
public enum JobLease {
    /// How often a running job writes its heartbeat.
    public static let heartbeat = Duration.seconds(10)
    /// A processing job without a sign of life for this long has lost its worker (three heartbeats missed).
    public static let expiresAfter: TimeInterval = 30
}

/// Async jobs and the reporting queries over jobs and usage.
public protocol JobStore: Sendable {
    /// Stores a new job (normally `pending`).
    func insertJob(_ job: Job) async throws
    /// `pending → processing` with `started_at`, atomically; nil when the job is not pending (taken, cancelled).
    func claimJob(id: UUID, at: Date) async throws -> Job?
    /// Writes the outcome of a `processing` job. False when the job is no longer processing (cancelled, or
    /// already finished): a job never completes twice.
    func finishJob(_ job: Job) async throws -> Bool
    /// `pending|processing → cancelled`; returns the job as it now is, nil when unknown (or another tenant's).
    func cancelJob(id: UUID, tenantID: UUID?, at: Date) async throws -> Job?
    /// A `processing` job's sign of life: its `updated_at` becomes `at` (see `JobLease`). Nothing when the job is no
    /// longer processing.
    func heartbeatJob(id: UUID, at: Date) async throws
    /// Jobs left `processing` whose last sign of life (the claim or a heartbeat) is before `staleBefore` — their
    /// worker crashed — go back to `pending` (`updated_at` = `at`); returns their ids, oldest first.
    func requeueStaleJobs(staleBefore: Date, at: Date) async throws -> [UUID]
    /// Every pending job id, oldest first.
    func pendingJobs() async throws -> [UUID]
    /// Newest first, after `after`, at most `first`.
    func jobs(filter: JobFilter, first: Int, after: JobCursor?) async throws -> JobPage
    /// Usage rows between `from` (inclusive) and `to` (exclusive), grouped, with exact sums.
    func usageSummary(tenantID: UUID?, from: Date?, to: Date?, groupBy: [UsageGroupBy]) async throws -> [UsageAggregate]
}
