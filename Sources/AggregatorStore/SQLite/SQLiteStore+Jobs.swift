import AggregatorCore
import Foundation
import SQLiteNIO

/// The job lifecycle on the embedded store. One process owns the file, so its clock is the database's clock.
extension SQLiteStore: JobStore {
    public func insertJob(_ job: Job) async throws {
        _ = try await rows(
            "INSERT INTO jobs (\(Self.jobColumns)) VALUES \(Self.placeholders(rows: 1, columns: Self.jobColumnCount))", Self.jobBinds(job))
        if job.status == .pending {
            _ = try await rows("UPDATE jobs SET dispatched_at = ? WHERE id = ?", [.date(Date()), .text(job.id)])
        }
    }

    public func claimJob(id: UUID, owner: String, lease: JobLease) async throws -> Job? {
        let now = Date()
        return try await rows(
            """
            UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = ?1, updated_at = ?1, lease_owner = ?2,
                lease_until = ?3
            WHERE id = ?4 AND status = 'pending' AND (not_before IS NULL OR not_before <= ?1)
            RETURNING \(Self.jobColumns)
            """, [.date(now), .text(owner), .date(now + lease.duration.timeInterval), .text(id)]
        ).first.map(Self.job)
    }

    public func renewLease(id: UUID, attempt: Int, lease: JobLease) async throws -> Bool {
        try await !rows(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'processing' AND attempts = ? RETURNING id",
            [.date(Date() + lease.duration.timeInterval), .text(id), .integer(attempt)]
        ).isEmpty
    }

    public func finishJob(_ job: Job, attempt: Int, usage: UsageRecord?) async throws -> Job? {
        let now = Date()
        return try await transaction { db in
            let matched = try await db.unlockedRows(
                """
                UPDATE jobs SET status = ?, result = ?, error = ?, provider = ?, model = ?, tokens_in = ?, tokens_out = ?,
                    cache_read_tokens = ?, cache_write_tokens = ?, cost_units = ?, updated_at = ?, finished_at = ?, lease_owner = NULL,
                    lease_until = NULL
                WHERE id = ? AND status = 'processing' AND attempts = ?
                RETURNING \(Self.jobColumns)
                """,
                [
                    .text(job.status.rawValue), .optional(job.result), .optional(job.error), .optional(job.provider), .optional(job.model),
                    .integer(job.tokensIn), .integer(job.tokensOut), .integer(job.cacheReadTokens), .integer(job.cacheWriteTokens),
                    .money(job.cost), .date(now), .date(now), .text(job.id), .integer(attempt),
                ])
            guard let row = matched.first else { return nil }
            if let usage { try await Self.insertUsage([usage], db) }
            return try Self.job(row)
        }
    }

    public func retryJob(id: UUID, attempt: Int, error: String, delay: Duration, maxAttempts: Int, usage: UsageRecord?) async throws -> Job? {
        let now = Date()
        return try await transaction { db in
            let rows = try await db.unlockedRows(
                """
                UPDATE jobs SET failures = failures + 1, error = ?1, updated_at = ?2, lease_owner = NULL, lease_until = NULL,
                    status = CASE WHEN failures + 1 >= ?3 THEN 'failed' ELSE 'pending' END,
                    finished_at = CASE WHEN failures + 1 >= ?3 THEN ?2 END,
                    not_before = ?4, dispatched_at = NULL
                WHERE id = ?5 AND status = 'processing' AND attempts = ?6
                RETURNING \(Self.jobColumns)
                """,
                [.text(error), .date(now), .integer(maxAttempts), .date(now + delay.timeInterval), .text(id), .integer(attempt)])
            guard let row = rows.first else { return nil }
            if let usage { try await Self.insertUsage([usage], db) }
            return try Self.job(row)
        }
    }

    public func releaseJob(id: UUID, attempt: Int) async throws -> Job? {
        try await rows(
            """
            UPDATE jobs SET status = 'pending', updated_at = ?, lease_owner = NULL, lease_until = NULL, not_before = NULL, dispatched_at = NULL
            WHERE id = ? AND status = 'processing' AND attempts = ?
            RETURNING \(Self.jobColumns)
            """, [.date(Date()), .text(id), .integer(attempt)]
        ).first.map(Self.job)
    }

    public func recordAttemptUsage(_ usage: UsageRecord) async throws {
        try await transaction { db in try await Self.insertUsage([usage], db) }
    }

    public func cancelJob(id: UUID, tenantID: UUID?) async throws -> Job? {
        let now = Date()
        return try await transaction { db in
            var sql = "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?"
            var binds: [SQLiteData] = [.text(id)]
            if let tenantID {
                sql += " AND tenant_id = ?"
                binds.append(.text(tenantID))
            }
            guard try await db.unlockedRows(sql, binds).first != nil else { return nil }
            _ = try await db.unlockedRows(
                """
                UPDATE jobs SET status = 'cancelled', updated_at = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL
                WHERE id = ? AND status IN ('pending', 'processing')
                """,
                [.date(now), .date(now), .text(id)])
            return try await db.unlockedRows("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)]).first.map(Self.job)
        }
    }

    public func reapExpiredLeases(maxAttempts: Int, limit: Int, everyLease: Bool) async throws -> [Job] {
        let now = Date()
        return try await rows(
            """
            UPDATE jobs SET failures = failures + 1, updated_at = ?1, lease_owner = NULL, lease_until = NULL,
                status = CASE WHEN failures + 1 >= ?2 THEN 'failed' ELSE 'pending' END,
                error = CASE WHEN failures + 1 >= ?2
                    THEN 'The job lost its worker ' || (failures + 1) || ' times (it stopped or was killed while running).' ELSE error END,
                finished_at = CASE WHEN failures + 1 >= ?2 THEN ?1 END,
                not_before = NULL, dispatched_at = NULL
            WHERE id IN (
                SELECT id FROM jobs WHERE status = 'processing' AND (?3 OR lease_until IS NULL OR lease_until < ?1)
                ORDER BY created_at, id LIMIT ?4)
            RETURNING \(Self.jobColumns)
            """, [.date(now), .integer(maxAttempts), .integer(everyLease ? 1 : 0), .integer(limit)]
        ).map(Self.job).sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
    }

    public func dispatchDueJobs(redispatchAfter: Duration, limit: Int) async throws -> [UUID] {
        let now = Date()
        return try await rows(
            """
            UPDATE jobs SET dispatched_at = ?1
            WHERE id IN (
                SELECT id FROM jobs
                WHERE status = 'pending' AND (not_before IS NULL OR not_before <= ?1) AND (dispatched_at IS NULL OR dispatched_at < ?2)
                ORDER BY created_at, id LIMIT ?3)
            RETURNING id, created_at
            """, [.date(now), .date(now - redispatchAfter.timeInterval), .integer(limit)]
        ).map { (try $0.date("created_at"), try $0.uuid("id")) }.sorted { ($0.0, $0.1.uuidString) < ($1.0, $1.1.uuidString) }.map(\.1)
    }

    public func jobQueueStats() async throws -> JobQueueStats {
        let row = try await rows(
            """
            SELECT coalesce(sum(status = 'pending'), 0) AS pending, coalesce(sum(status = 'processing'), 0) AS processing,
                min(CASE WHEN status = 'pending' THEN created_at END) AS oldest
            FROM jobs WHERE status IN ('pending', 'processing')
            """
        ).first
        return JobQueueStats(pending: try row?.int("pending") ?? 0, processing: try row?.int("processing") ?? 0, oldestPendingCreatedAt: row?.optionalDate("oldest"))
    }

    public func jobs(filter: JobFilter, first: Int, after: JobCursor?) async throws -> JobPage {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let tenantID = filter.tenantID {
            conditions.append("tenant_id = ?")
            binds.append(.text(tenantID))
        }
        if let status = filter.status {
            conditions.append("status = ?")
            binds.append(.text(status.rawValue))
        }
        if let type = filter.type {
            conditions.append("type = ?")
            binds.append(.text(type.rawValue))
        }
        if let provider = filter.provider {
            conditions.append("provider = ?")
            binds.append(.text(provider))
        }
        if let model = filter.model {
            conditions.append("model = ?")
            binds.append(.text(model))
        }
        if let from = filter.from {
            conditions.append("created_at >= ?")
            binds.append(.date(from))
        }
        if let to = filter.to {
            conditions.append("created_at < ?")
            binds.append(.date(to))
        }
        if let search = filter.search, !search.isEmpty {
            conditions.append("(instr(lower(input), lower(?)) > 0 OR instr(lower(coalesce(result, '')), lower(?)) > 0)")
            binds += [.text(search), .text(search)]
        }
        let filtered = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var pageConditions = conditions
        var pageBinds = binds
        if let after {
            pageConditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            pageBinds += [.date(after.createdAt), .date(after.createdAt), .text(after.id)]
        }
        let pageWhere = pageConditions.isEmpty ? "" : " WHERE " + pageConditions.joined(separator: " AND ")
        let limit = max(0, first)
        let (countBinds, listBinds) = (binds, pageBinds + [.integer(limit + 1)])
        return try await gate.run {
            let rows = try await self.unlockedRows(
                "SELECT \(Self.jobColumns) FROM jobs\(pageWhere) ORDER BY created_at DESC, id DESC LIMIT ?", listBinds)
            let total = try await self.unlockedRows("SELECT count(*) AS n FROM jobs\(filtered)", countBinds).first?.int("n") ?? 0
            let jobs = try rows.prefix(limit).map(Self.job)
            return JobPage(jobs: jobs, hasNextPage: rows.count > limit, totalCount: total)
        }
    }

    public func usageSummary(tenantID: UUID?, from: Date?, to: Date?, groupBy: [UsageGroupBy]) async throws -> [UsageAggregate] {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let tenantID {
            conditions.append("tenant_id = ?")
            binds.append(.text(tenantID))
        }
        if let from {
            conditions.append("created_at >= ?")
            binds.append(.date(from))
        }
        if let to {
            conditions.append("created_at < ?")
            binds.append(.date(to))
        }
        let keys = UsageGroupBy.allCases.filter(groupBy.contains)
        let columns = keys.map { key -> String in
            switch key {
            case .provider: "provider"
            case .model: "model"
            case .tenant: "tenant_id"
            case .day: "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day"
            }
        }
        let groupColumns = keys.map { $0 == .day ? "day" : ($0 == .tenant ? "tenant_id" : $0.rawValue) }
        let sums = [
            "count(*) AS requests", "sum(tokens_in) AS tokens_in", "sum(tokens_out) AS tokens_out", "sum(cache_read_tokens) AS cache_read_tokens",
            "sum(cache_write_tokens) AS cache_write_tokens", "sum(cost_units) AS cost_units",
        ]
        let select = (columns + sums).joined(separator: ", ")
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let group = groupColumns.isEmpty ? "" : " GROUP BY " + groupColumns.joined(separator: ", ") + " ORDER BY " + groupColumns.joined(separator: ", ")
        let rows = try await rows("SELECT \(select) FROM usage\(whereClause)\(group)", binds)
        return try rows.compactMap { row in
            let requests = try row.int("requests")
            if requests == 0 { return nil }
            return UsageAggregate(
                tenantID: keys.contains(.tenant) ? try row.uuid("tenant_id") : nil,
                provider: keys.contains(.provider) ? row.optionalString("provider") : nil,
                model: keys.contains(.model) ? row.optionalString("model") : nil,
                day: keys.contains(.day) ? row.optionalString("day") : nil,
                requests: requests, tokensIn: try row.int("tokens_in"), tokensOut: try row.int("tokens_out"),
                cacheReadTokens: try row.int("cache_read_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
                cost: try row.money("cost_units"))
        }
    }
}
