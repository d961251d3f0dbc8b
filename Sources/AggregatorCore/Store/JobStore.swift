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

/// How long a worker holds a job it took, and how often it says it is still at it (SPEC §8, `JOB_LEASE_SECONDS`).
public struct JobLease: Sendable, Hashable {
    /// A processing job whose lease was not renewed for this long is taken back and run again.
    public var duration: Duration
    /// How often a running job renews its lease: a third of the lease, so two renewals can fail before it lapses.
    public var renewEvery: Duration { duration / 3 }

    public init(duration: Duration = .seconds(30)) {
        self.duration = duration
    }
}

/// The queue's view of the jobs table: how many wait and since when.
public struct JobQueueStats: Sendable, Hashable {
    /// Pending jobs, due or waiting for a retry.
    public var pending: Int
    public var processing: Int
    /// When the oldest pending job was created.
    public var oldestPendingCreatedAt: Date?

    public init(pending: Int, processing: Int, oldestPendingCreatedAt: Date?) {
        self.pending = pending
        self.processing = processing
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
    }
}

/// Async jobs and the reporting queries over jobs and usage.
///
/// The job lifecycle (SPEC §8): every transition is one conditional update on the database's clock, so of two
/// workers racing for a job, or a worker racing a cancel, the loser changes nothing. A worker's writes are fenced by
/// the `attempts` value its claim returned: once the job was cancelled, taken back after its lease ran out, or taken
/// by another worker, they match no row.
public protocol JobStore: Sendable {
    /// Stores a new job (normally `pending`), as dispatched now.
    func insertJob(_ job: Job) async throws
    /// `pending → processing` when the job is due: `attempts` + 1, `started_at` now, the lease held by `owner` until
    /// now + `lease`. Nil when it is not pending, not due yet, or was taken first.
    func claimJob(id: UUID, owner: String, lease: JobLease) async throws -> Job?
    /// Extends the lease of `attempt`. False when that attempt no longer holds the job (cancelled, taken back, done):
    /// its worker must stop and write nothing.
    func renewLease(id: UUID, attempt: Int, lease: JobLease) async throws -> Bool
    /// Writes the end of `attempt` — `completed`, or `failed` for good — with its usage row, in one transaction, when
    /// that attempt still holds the job; returns the job as stored. Nil (and nothing written) otherwise: a job ends
    /// once and is metered once.
    func finishJob(_ job: Job, attempt: Int, usage: UsageRecord?) async throws -> Job?
    /// A transient failure of `attempt`: `failures` + 1, then back to `pending` not before now + `delay`, or `failed`
    /// with `error` once `failures` reaches `maxAttempts`. Its usage row, if any, is written with it. Returns the job
    /// as it now is; nil when the attempt no longer held it.
    func retryJob(id: UUID, attempt: Int, error: String, delay: Duration, maxAttempts: Int, usage: UsageRecord?) async throws -> Job?
    /// Hands `attempt`'s job back at shutdown: `pending` at once, not counted as a failure. Nil when not held.
    func releaseJob(id: UUID, attempt: Int) async throws -> Job?
    /// Meters what an attempt that lost its job (cancelled, taken back) generated: once per job and attempt.
    func recordAttemptUsage(_ usage: UsageRecord) async throws
    /// `pending|processing → cancelled` (now); returns the job as it now is, nil when unknown (or another tenant's).
    func cancelJob(id: UUID, tenantID: UUID?) async throws -> Job?
    /// Processing jobs whose lease ran out (their worker died or stalled), at most `limit`: `failures` + 1, back to
    /// `pending` at once, or `failed` once `failures` reaches `maxAttempts`. `everyLease`: take back every processing
    /// job whatever its lease (an embedded store at start: no other process can hold one). Returns them as they now are.
    func reapExpiredLeases(maxAttempts: Int, limit: Int, everyLease: Bool) async throws -> [Job]
    /// Pending jobs that are due and that no queue was told about for `redispatchAfter` (or since their retry became
    /// due), oldest first, at most `limit`; each is marked dispatched now.
    func dispatchDueJobs(redispatchAfter: Duration, limit: Int) async throws -> [UUID]
    /// Pending and processing counts, and the oldest pending job's creation time.
    func jobQueueStats() async throws -> JobQueueStats
    /// Newest first, after `after`, at most `first`.
    func jobs(filter: JobFilter, first: Int, after: JobCursor?) async throws -> JobPage
    /// Usage rows between `from` (inclusive) and `to` (exclusive), grouped, with exact sums.
    func usageSummary(tenantID: UUID?, from: Date?, to: Date?, groupBy: [UsageGroupBy]) async throws -> [UsageAggregate]
}

extension Duration {
    /// Whole milliseconds (rounded down).
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
