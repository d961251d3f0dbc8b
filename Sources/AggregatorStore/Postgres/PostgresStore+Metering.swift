import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore {
    static let jobColumns = """
        id, tenant_id, type, status, input, result, error, provider, model, tokens_in, tokens_out, cache_read_tokens, \
        cache_write_tokens, cost::text, attempts, failures, created_at, updated_at, started_at, finished_at
        """
    static let usageColumns = """
        id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost::text, unpriced, \
        attempt, created_at
        """
    /// Rows per multi-row INSERT (20 binds a job row; PostgreSQL allows 65,535 binds a statement).
    static let rowsPerInsert = 1_000

    static func job(_ row: PostgresRandomAccessRow) throws -> Job {
        guard let type = JobType(rawValue: try row.string("type")), let status = JobStatus(rawValue: try row.string("status")) else {
            throw PostgresStoreError.unexpectedValue(column: "type/status")
        }
        return Job(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), type: type, status: status, input: try row.string("input"),
            result: try row.optionalString("result"), error: try row.optionalString("error"), provider: try row.optionalString("provider"),
            model: try row.optionalString("model"), tokensIn: try row.int("tokens_in"), tokensOut: try row.int("tokens_out"),
            cacheReadTokens: try row.int("cache_read_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
            cost: try row.money("cost"), attempts: try row.int("attempts"), failures: try row.int("failures"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            startedAt: try row.optionalDate("started_at"), finishedAt: try row.optionalDate("finished_at"))
    }

    static func usage(_ row: PostgresRandomAccessRow) throws -> UsageRecord {
        UsageRecord(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), jobID: try row.value("job_id", as: UUID?.self),
            provider: try row.string("provider"), model: try row.optionalString("model"), tokensIn: try row.int("tokens_in"),
            tokensOut: try row.int("tokens_out"), cacheReadTokens: try row.int("cache_read_tokens"),
            cacheWriteTokens: try row.int("cache_write_tokens"), cost: try row.money("cost"), unpriced: try row.bool("unpriced"),
            attempt: try row.int("attempt"), createdAt: try row.date("created_at"))
    }

    /// `(…21 job values…)` appended as binds (a pending job counts as dispatched now).
    static func appendValues(of job: Job, to sql: inout PostgresQuery.StringInterpolation) {
        sql.appendLiteral("(")
        sql.appendInterpolation(job.id)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.tenantID)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.type.rawValue)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.status.rawValue)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.input)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.result)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.error)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.provider)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.model)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.tokensIn)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.tokensOut)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.cacheReadTokens)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.cacheWriteTokens)
        sql.appendLiteral(", ")
        sql.appendInterpolation(NumericMoney(job.cost))
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.attempts)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.failures)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.createdAt.wholeMillis)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.updatedAt.wholeMillis)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.startedAt?.wholeMillis)
        sql.appendLiteral(", ")
        sql.appendInterpolation(job.finishedAt?.wholeMillis)
        sql.appendLiteral(job.status == .pending ? ", now())" : ", NULL)")
    }

    static func insertJobs(_ jobs: some Collection<Job>, ignoringDuplicates: Bool) -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation.empty
        sql.appendLiteral(
            """
            INSERT INTO jobs (id, tenant_id, type, status, input, result, error, provider, model, tokens_in, tokens_out,
                cache_read_tokens, cache_write_tokens, cost, attempts, failures, created_at, updated_at, started_at, finished_at,
                dispatched_at) VALUES
            """)
        for (index, job) in jobs.enumerated() {
            sql.appendLiteral(index == 0 ? " " : ", ")
            appendValues(of: job, to: &sql)
        }
        if ignoringDuplicates { sql.appendLiteral(" ON CONFLICT (id) DO NOTHING") }
        return PostgresQuery(stringInterpolation: sql)
    }

    /// Adds the rows of a preceding `inserted` CTE (tenant_id, created_at, provider, model, tokens_in,
    /// tokens_out, cache_read_tokens, cache_write_tokens, cost) to the daily rollup: the statement's second half,
    /// shared by every writer of usage.
    static let rollupFromInserted = """
        INSERT INTO usage_daily AS d (tenant_id, day, provider, model, requests, tokens_in, tokens_out, cache_read_tokens,
            cache_write_tokens, cost)
        SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, provider, coalesce(model, ''), count(*), sum(tokens_in),
            sum(tokens_out), sum(cache_read_tokens), sum(cache_write_tokens), sum(cost)
        FROM inserted GROUP BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, day, provider, model) DO UPDATE SET
            requests = d.requests + excluded.requests,
            tokens_in = d.tokens_in + excluded.tokens_in,
            tokens_out = d.tokens_out + excluded.tokens_out,
            cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
            cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
            cost = d.cost + excluded.cost
        """

    /// Inserts usage rows not stored yet and adds exactly those to the daily rollup, in one statement.
    static func insertUsage(_ rows: some Collection<UsageRecord>) -> PostgresQuery {
        var sql = PostgresQuery.StringInterpolation.empty
        sql.appendLiteral(
            """
            WITH inserted AS (
                INSERT INTO usage (id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens,
                    cost, unpriced, attempt, created_at) VALUES
            """)
        for (index, usage) in rows.enumerated() {
            sql.appendLiteral(index == 0 ? " (" : ", (")
            sql.appendInterpolation(usage.id)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.tenantID)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.jobID)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.provider)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.model)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.tokensIn)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.tokensOut)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.cacheReadTokens)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.cacheWriteTokens)
            sql.appendLiteral(", ")
            sql.appendInterpolation(NumericMoney(usage.cost))
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.unpriced)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.attempt)
            sql.appendLiteral(", ")
            sql.appendInterpolation(usage.createdAt.wholeMillis)
            sql.appendLiteral(")")
        }
        sql.appendLiteral("\n    ON CONFLICT DO NOTHING\n    RETURNING tenant_id, created_at, provider, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost\n)\n")
        sql.appendLiteral(rollupFromInserted)
        return PostgresQuery(stringInterpolation: sql)
    }

    /// Job and usage rows in one transaction, as multi-row inserts. Rows already stored (same id) are
    /// skipped and never counted twice in the rollup, so a retried batch lands exactly once. `urgency` does not
    /// apply: the database server does the work, not this process.
    public func record(_ generations: [Generation], urgency: WriteUrgency) async throws {
        guard !generations.isEmpty else { return }
        let jobs = generations.map(\.job)
        let usage = generations.compactMap(\.usage)
        let logger = self.logger
        try await transaction { connection in
            for start in stride(from: 0, to: jobs.count, by: Self.rowsPerInsert) {
                let chunk = jobs[start..<min(start + Self.rowsPerInsert, jobs.count)]
                try await connection.query(Self.insertJobs(chunk, ignoringDuplicates: true), logger: logger)
            }
            for start in stride(from: 0, to: usage.count, by: Self.rowsPerInsert) {
                let chunk = usage[start..<min(start + Self.rowsPerInsert, usage.count)]
                try await connection.query(Self.insertUsage(chunk), logger: logger)
            }
        }
    }

    public func job(id: UUID) async throws -> Job? {
        try await query("SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = \(id)").first.map(Self.job)
    }

    public func usageRecords(tenantID: UUID?, limit: Int) async throws -> [UsageRecord] {
        if let tenantID {
            return try await query(
                """
                SELECT \(unescaped: Self.usageColumns) FROM usage WHERE tenant_id = \(tenantID)
                ORDER BY created_at DESC, id LIMIT \(limit)
                """
            ).map(Self.usage)
        }
        return try await query("SELECT \(unescaped: Self.usageColumns) FROM usage ORDER BY created_at DESC, id LIMIT \(limit)")
            .map(Self.usage)
    }
}
