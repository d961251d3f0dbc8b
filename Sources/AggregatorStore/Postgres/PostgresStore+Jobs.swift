import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore: JobStore {
    public func insertJob(_ job: Job) async throws {
        _ = try await query(Self.insertJobs([job], ignoringDuplicates: false))
    }

    public func claimJob(id: UUID, at: Date) async throws -> Job? {
        let at = at.wholeMillis
        return try await query(
            """
            UPDATE jobs SET status = 'processing', started_at = \(at), updated_at = \(at)
            WHERE id = \(id) AND status = 'pending'
            RETURNING \(unescaped: Self.jobColumns)
            """
        ).first.map(Self.job)
    }

    public func finishJob(_ job: Job) async throws -> Bool {
        try await !query(
            """
            UPDATE jobs SET status = \(job.status.rawValue), result = \(job.result), error = \(job.error), provider = \(job.provider),
                model = \(job.model), tokens_in = \(job.tokensIn), tokens_out = \(job.tokensOut),
                cache_read_tokens = \(job.cacheReadTokens), cache_write_tokens = \(job.cacheWriteTokens), cost = \(NumericMoney(job.cost)),
                updated_at = \(job.updatedAt.wholeMillis), finished_at = \(job.finishedAt?.wholeMillis)
            WHERE id = \(job.id) AND status = 'processing'
            RETURNING id
            """
        ).isEmpty
    }

    public func cancelJob(id: UUID, tenantID: UUID?, at: Date) async throws -> Job? {
        let at = at.wholeMillis
        return try await transaction { connection in
            var select = PostgresQuery.StringInterpolation.empty
            select.appendLiteral("SELECT id FROM jobs WHERE id = ")
            select.appendInterpolation(id)
            select.appendFilter("tenant_id = ", tenantID)
            select.appendLiteral(" FOR UPDATE")
            guard try await connection.query(PostgresQuery(stringInterpolation: select), logger: self.logger).collect().first != nil else {
                return nil
            }
            try await connection.query(
                """
                UPDATE jobs SET status = 'cancelled', updated_at = \(at), finished_at = \(at)
                WHERE id = \(id) AND status IN ('pending', 'processing')
                """, logger: self.logger)
            let rows = try await connection.query("SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = \(id)", logger: self.logger)
                .collect()
            return try rows.first.map { try Self.job($0.makeRandomAccess()) }
        }
    }

    public func heartbeatJob(id: UUID, at: Date) async throws {
        _ = try await query("UPDATE jobs SET updated_at = \(at.wholeMillis) WHERE id = \(id) AND status = 'processing'")
    }

    public func requeueStaleJobs(staleBefore: Date, at: Date) async throws -> [UUID] {
        try await query(
            """
            WITH stale AS (
                UPDATE jobs SET status = 'pending', started_at = NULL, updated_at = \(at.wholeMillis)
                WHERE status = 'processing' AND updated_at < \(staleBefore.wholeMillis)
                RETURNING id, created_at
            )
            SELECT id FROM stale ORDER BY created_at, id
            """
        ).map { try $0.uuid("id") }
    }

    public func pendingJobs() async throws -> [UUID] {
        try await query("SELECT id FROM jobs WHERE status = 'pending' ORDER BY created_at, id").map { try $0.uuid("id") }
    }

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
