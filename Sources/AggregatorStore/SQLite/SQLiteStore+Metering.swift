import AggregatorCore
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static let jobColumns = """
        id, tenant_id, type, status, input, result, error, provider, model, tokens_in, tokens_out, cache_read_tokens, \
        cache_write_tokens, cost_units, attempts, failures, created_at, updated_at, started_at, finished_at
        """
    static let jobColumnCount = 20
    static let usageColumns = """
        id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_units, unpriced, \
        attempt, created_at
        """
    static let usageColumnCount = 13

    static func job(_ row: SQLiteRow) throws -> Job {
        guard let type = JobType(rawValue: try row.string("type")), let status = JobStatus(rawValue: try row.string("status")) else {
            throw RowError(column: "type/status")
        }
        return Job(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), type: type, status: status, input: try row.string("input"),
            result: row.optionalString("result"), error: row.optionalString("error"), provider: row.optionalString("provider"),
            model: row.optionalString("model"), tokensIn: try row.int("tokens_in"), tokensOut: try row.int("tokens_out"),
            cacheReadTokens: try row.int("cache_read_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
            cost: try row.money("cost_units"), attempts: try row.int("attempts"), failures: try row.int("failures"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            startedAt: row.optionalDate("started_at"), finishedAt: row.optionalDate("finished_at"))
    }

    static func usage(_ row: SQLiteRow) throws -> UsageRecord {
        UsageRecord(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"),
            jobID: row.optionalString("job_id").flatMap(UUID.init(uuidString:)), provider: try row.string("provider"),
            model: row.optionalString("model"), tokensIn: try row.int("tokens_in"), tokensOut: try row.int("tokens_out"),
            cacheReadTokens: try row.int("cache_read_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
            cost: try row.money("cost_units"), unpriced: try row.bool("unpriced"), attempt: try row.int("attempt"),
            createdAt: try row.date("created_at"))
    }

    static func jobBinds(_ job: Job) -> [SQLiteData] {
        [
            .text(job.id), .text(job.tenantID), .text(job.type.rawValue), .text(job.status.rawValue), .text(job.input),
            .optional(job.result), .optional(job.error), .optional(job.provider), .optional(job.model), .integer(job.tokensIn),
            .integer(job.tokensOut), .integer(job.cacheReadTokens), .integer(job.cacheWriteTokens), .money(job.cost),
            .integer(job.attempts), .integer(job.failures), .date(job.createdAt), .date(job.updatedAt), .optionalDate(job.startedAt), .optionalDate(job.finishedAt),
        ]
    }

    /// Rows per multi-row INSERT: each statement is one hop to SQLite's thread, and 100 jobs rows are 1,800 binds,
    /// far under SQLite's limit of 32,766.
    static let rowsPerInsert = 100

    /// Background rows go through the idle-class connection while the machine has CPU to spare, a transaction
    /// of at most `rowsPerInsert` rows at a time (see `SQLiteStore`); other rows in one transaction on the main one.
    public func record(_ generations: [Generation], urgency: WriteUrgency) async throws {
        guard !generations.isEmpty else { return }
        let chunks = stride(from: 0, to: generations.count, by: Self.rowsPerInsert).map {
            Array(generations[$0..<min($0 + Self.rowsPerInsert, generations.count)])
        }
        guard urgency == .background, idleThread != nil else {
            try await main.transaction { db in
                for chunk in chunks { try await Self.insert(chunk, db) }
            }
            return
        }
        for chunk in chunks {
            if spareCPU() {
                try await backgroundTransaction { db in try await Self.insert(chunk, db) }
            } else {
                try await main.transaction { db in try await Self.insert(chunk, db) }
            }
        }
    }

    /// A transaction on the background connection, its thread lifted out of the idle class should it run longer
    /// than `liftAfter` (at normal priority where there is no idle thread).
    func backgroundTransaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteLane) async throws -> T) async throws -> T {
        guard let idleThread else { return try await background.transaction(body) }
        return try await idleThread.write { try await background.transaction(body) }
    }

    /// The job rows and usage rows of `chunk`, one multi-row INSERT each; rows already stored are skipped.
    static func insert(_ chunk: [Generation], _ db: SQLiteLane) async throws {
        _ = try await db.unlockedRows(
            "INSERT INTO jobs (\(Self.jobColumns)) VALUES \(Self.placeholders(rows: chunk.count, columns: Self.jobColumnCount)) ON CONFLICT (id) DO NOTHING",
            chunk.flatMap { Self.jobBinds($0.job) })
        try await insertUsage(chunk.compactMap(\.usage), db)
    }

    /// Usage rows not stored yet (same id, or same job and attempt: skipped), one multi-row INSERT.
    static func insertUsage(_ usage: [UsageRecord], _ db: SQLiteLane) async throws {
        guard !usage.isEmpty else { return }
        _ = try await db.unlockedRows(
            "INSERT INTO usage (\(Self.usageColumns)) VALUES \(Self.placeholders(rows: usage.count, columns: Self.usageColumnCount)) ON CONFLICT DO NOTHING",
            usage.flatMap(Self.usageBinds))
    }

    /// `(?, ?, …), (?, ?, …)` for a multi-row VALUES list.
    static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    static func usageBinds(_ usage: UsageRecord) -> [SQLiteData] {
        [
            .text(usage.id), .text(usage.tenantID), usage.jobID.map { .text($0) } ?? .null, .text(usage.provider), .optional(usage.model),
            .integer(usage.tokensIn), .integer(usage.tokensOut), .integer(usage.cacheReadTokens), .integer(usage.cacheWriteTokens),
            .money(usage.cost), .integer(usage.unpriced ? 1 : 0), .integer(usage.attempt), .date(usage.createdAt),
        ]
    }

    public func job(id: UUID) async throws -> Job? {
        try await rows("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)]).first.map(Self.job)
    }

    public func usageRecords(tenantID: UUID?, limit: Int) async throws -> [UsageRecord] {
        if let tenantID {
            return try await rows(
                "SELECT \(Self.usageColumns) FROM usage WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT ?",
                [.text(tenantID), .integer(limit)]
            ).map(Self.usage)
        }
        return try await rows("SELECT \(Self.usageColumns) FROM usage ORDER BY created_at DESC, id LIMIT ?", [.integer(limit)]).map(Self.usage)
    }
}
