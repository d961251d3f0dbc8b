import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore: JobStore {
    public func insertJob(_ job: Job) async throws {
        _ = try await query(Self.insertJobs([job], ignoringDuplicates: false))
    }

    public func claimJob(id: UUID, owner: String, lease: JobLease) async throws -> Job? {
        try await query(
            """
            UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = \(unescaped: Self.nowMillis),
                updated_at = \(unescaped: Self.nowMillis), lease_owner = \(owner),
                lease_until = now() + \(lease.duration.wholeMilliseconds) * interval '1 millisecond'
            WHERE id = \(id) AND status = 'pending' AND (not_before IS NULL OR not_before <= now())
            RETURNING \(unescaped: Self.jobColumns)
            """
        ).first.map(Self.job)
    }

    public func renewLease(id: UUID, attempt: Int, lease: JobLease) async throws -> Bool {
        try await !query(
            """
            UPDATE jobs SET lease_until = now() + \(lease.duration.wholeMilliseconds) * interval '1 millisecond'
            WHERE id = \(id) AND status = 'processing' AND attempts = \(attempt)
            RETURNING id
            """
        ).isEmpty
    }

    public func finishJob(_ job: Job, attempt: Int, usage: UsageRecord?) async throws -> Job? {
        let logger = self.logger
        return try await transaction { connection in
            let matched = try await connection.query(
                """
                UPDATE jobs SET status = \(job.status.rawValue), result = \(job.result), error = \(job.error), provider = \(job.provider),
                    model = \(job.model), tokens_in = \(job.tokensIn), tokens_out = \(job.tokensOut),
                    cache_read_tokens = \(job.cacheReadTokens), cache_write_tokens = \(job.cacheWriteTokens), cost = \(NumericMoney(job.cost)),
                    updated_at = \(unescaped: Self.nowMillis), finished_at = \(unescaped: Self.nowMillis), lease_owner = NULL, lease_until = NULL
                WHERE id = \(job.id) AND status = 'processing' AND attempts = \(attempt)
                RETURNING \(unescaped: Self.jobColumns)
                """, logger: logger
            ).collect()
            guard let row = matched.first else { return nil }
            if let usage { try await connection.query(Self.insertUsage([usage]), logger: logger) }
            return try Self.job(row.makeRandomAccess())
        }
    }

    public func retryJob(id: UUID, attempt: Int, error: String, delay: Duration, maxAttempts: Int, usage: UsageRecord?) async throws -> Job? {
        let logger = self.logger
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE jobs SET failures = failures + 1, error = \(error), updated_at = \(unescaped: Self.nowMillis),
                    lease_owner = NULL, lease_until = NULL,
                    status = CASE WHEN failures + 1 >= \(maxAttempts) THEN 'failed' ELSE 'pending' END,
                    finished_at = CASE WHEN failures + 1 >= \(maxAttempts) THEN \(unescaped: Self.nowMillis) END,
                    not_before = now() + \(delay.wholeMilliseconds) * interval '1 millisecond', dispatched_at = NULL
                WHERE id = \(id) AND status = 'processing' AND attempts = \(attempt)
                RETURNING \(unescaped: Self.jobColumns)
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return nil }
            if let usage { try await connection.query(Self.insertUsage([usage]), logger: logger) }
            return try Self.job(row.makeRandomAccess())
        }
    }

    public func releaseJob(id: UUID, attempt: Int) async throws -> Job? {
        try await query(
            """
            UPDATE jobs SET status = 'pending', updated_at = \(unescaped: Self.nowMillis), lease_owner = NULL, lease_until = NULL,
                not_before = NULL, dispatched_at = NULL
            WHERE id = \(id) AND status = 'processing' AND attempts = \(attempt)
            RETURNING \(unescaped: Self.jobColumns)
            """
        ).first.map(Self.job)
    }

    public func recordAttemptUsage(_ usage: UsageRecord) async throws {
        _ = try await query(Self.insertUsage([usage]))
    }

    public func cancelJob(id: UUID, tenantID: UUID?) async throws -> Job? {
        var sql = PostgresQuery.StringInterpolation.empty
        sql.appendLiteral(
            """
            WITH target AS (SELECT * FROM jobs WHERE id =
            """)
        sql.appendInterpolation(id)
        sql.appendFilter("tenant_id = ", tenantID)
        sql.appendLiteral(
            """
             FOR UPDATE),
            changed AS (
                UPDATE jobs SET status = 'cancelled', updated_at = \(Self.nowMillis), finished_at = \(Self.nowMillis),
                    lease_owner = NULL, lease_until = NULL
                WHERE id IN (SELECT id FROM target) AND status IN ('pending', 'processing')
                RETURNING \(Self.jobColumns)
            )
            SELECT \(Self.jobColumns) FROM changed
            UNION ALL
            SELECT \(Self.jobColumns) FROM target WHERE NOT EXISTS (SELECT 1 FROM changed)
            """)
        return try await query(PostgresQuery(stringInterpolation: sql)).first.map(Self.job)
    }

    public func reapExpiredLeases(maxAttempts: Int, limit: Int, everyLease: Bool) async throws -> [Job] {
        try await query(
            """
            WITH expired AS (
                SELECT id FROM jobs WHERE status = 'processing' AND (\(everyLease) OR lease_until IS NULL OR lease_until < now())
                ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET failures = failures + 1, updated_at = \(unescaped: Self.nowMillis), lease_owner = NULL, lease_until = NULL,
                status = CASE WHEN failures + 1 >= \(maxAttempts) THEN 'failed' ELSE 'pending' END,
                error = CASE WHEN failures + 1 >= \(maxAttempts)
                    THEN 'The job lost its worker ' || (failures + 1) || ' times (it stopped or was killed while running).' ELSE error END,
                finished_at = CASE WHEN failures + 1 >= \(maxAttempts) THEN \(unescaped: Self.nowMillis) END,
                not_before = NULL, dispatched_at = NULL
            WHERE id IN (SELECT id FROM expired)
            RETURNING \(unescaped: Self.jobColumns)
            """
        ).map(Self.job).sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
    }

    public func dispatchDueJobs(redispatchAfter: Duration, limit: Int) async throws -> [UUID] {
        try await query(
            """
            WITH due AS (
                SELECT id FROM jobs
                WHERE status = 'pending' AND (not_before IS NULL OR not_before <= now())
                    AND (dispatched_at IS NULL OR dispatched_at < now() - \(redispatchAfter.wholeMilliseconds) * interval '1 millisecond')
                ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ),
            marked AS (UPDATE jobs SET dispatched_at = now() WHERE id IN (SELECT id FROM due) RETURNING id, created_at)
            SELECT id FROM marked ORDER BY created_at, id
            """
        ).map { try $0.uuid("id") }
    }

    public func jobQueueStats() async throws -> JobQueueStats {
        let row = try await query(
            """
            SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'processing') AS processing,
                min(created_at) FILTER (WHERE status = 'pending') AS oldest
            FROM jobs WHERE status IN ('pending', 'processing')
            """
        ).first
        return JobQueueStats(
            pending: try row?.int("pending") ?? 0, processing: try row?.int("processing") ?? 0, oldestPendingCreatedAt: try row?.optionalDate("oldest"))
    }

    /// The database's clock to the millisecond, as every stored time is kept.
    static let nowMillis = "date_trunc('milliseconds', now())"

    /// ` AND …` for each filter, values as binds.
    static func appendConditions(_ filter: JobFilter, to sql: inout PostgresQuery.StringInterpolation) {
        sql.appendFilter("tenant_id = ", filter.tenantID)
        sql.appendFilter("status = ", filter.status?.rawValue)
        sql.appendFilter("type = ", filter.type?.rawValue)
        sql.appendFilter("provider = ", filter.provider)
        sql.appendFilter("model = ", filter.model)
        sql.appendFilter("created_at >= ", filter.from)
        sql.appendFilter("created_at < ", filter.to)
        if let search = filter.search, !search.isEmpty {
            sql.appendLiteral(" AND (strpos(lower(input), lower(")
            sql.appendInterpolation(search)
            sql.appendLiteral(")) > 0 OR strpos(lower(coalesce(result, '')), lower(")
            sql.appendInterpolation(search)
            sql.appendLiteral(")) > 0)")
        }
    }

    public func jobs(filter: JobFilter, first: Int, after: JobCursor?) async throws -> JobPage {
        let limit = max(0, first)
        var page = PostgresQuery.StringInterpolation.empty
        page.appendLiteral("SELECT \(Self.jobColumns) FROM jobs WHERE TRUE")
        Self.appendConditions(filter, to: &page)
        if let after {
            page.appendLiteral(" AND (created_at, id) < (")
            page.appendInterpolation(after.createdAt)
            page.appendLiteral(", ")
            page.appendInterpolation(after.id)
            page.appendLiteral(")")
        }
        page.appendLiteral(" ORDER BY created_at DESC, id DESC LIMIT ")
        page.appendInterpolation(limit + 1)
        var count = PostgresQuery.StringInterpolation.empty
        count.appendLiteral("SELECT count(*) AS n FROM jobs WHERE TRUE")
        Self.appendConditions(filter, to: &count)
        let (pageQuery, countQuery) = (PostgresQuery(stringInterpolation: page), PostgresQuery(stringInterpolation: count))
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(pageQuery, logger: logger).collect().map { $0.makeRandomAccess() }
            let total = try await connection.query(countQuery, logger: logger).collect().first?.makeRandomAccess().int("n") ?? 0
            return JobPage(jobs: try rows.prefix(limit).map(Self.job), hasNextPage: rows.count > limit, totalCount: total)
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// ` AND <condition><value>` (the value a bind) when the caller gave a value; nothing when it left it out.
    mutating func appendFilter<Value: PostgresDynamicTypeEncodable>(_ condition: String, _ value: Value?, cast: String = "") {
        guard let value else { return }
        appendLiteral(" AND " + condition)
        appendInterpolation(value)
        if !cast.isEmpty { appendLiteral(cast) }
    }
}
