import AggregatorCore
import Foundation
import SQLiteNIO

extension SQLiteStore: JobStore {
    public func insertJob(_ job: Job) async throws {
        _ = try await rows(
            "INSERT INTO jobs (\(Self.jobColumns)) VALUES \(Self.placeholders(rows: 1, columns: Self.jobColumnCount))", Self.jobBinds(job))
    }

    public func claimJob(id: UUID, at: Date) async throws -> Job? {
        try await transaction { db in
            _ = try await db.unlockedRows(
                "UPDATE jobs SET status = 'processing', started_at = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
                [.date(at), .date(at), .text(id)])
            let changed = try await db.unlockedRows("SELECT changes() AS n").first?.int("n") ?? 0
            guard changed == 1 else { return nil }
            return try await db.unlockedRows("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)]).first.map(Self.job)
        }
    }

    public func finishJob(_ job: Job) async throws -> Bool {
        try await transaction { db in
            _ = try await db.unlockedRows(
                """
                UPDATE jobs SET status = ?, result = ?, error = ?, provider = ?, model = ?, tokens_in = ?, tokens_out = ?,
                    cache_read_tokens = ?, cache_write_tokens = ?, cost_units = ?, updated_at = ?, finished_at = ?
                WHERE id = ? AND status = 'processing'
                """,
                [
                    .text(job.status.rawValue), .optional(job.result), .optional(job.error), .optional(job.provider), .optional(job.model),
                    .integer(job.tokensIn), .integer(job.tokensOut), .integer(job.cacheReadTokens), .integer(job.cacheWriteTokens),
                    .money(job.cost), .date(job.updatedAt), .optionalDate(job.finishedAt),
                    .text(job.id),
                ])
            return try await db.unlockedRows("SELECT changes() AS n").first?.int("n") == 1
        }
    }

    public func cancelJob(id: UUID, tenantID: UUID?, at: Date) async throws -> Job? {
        try await transaction { db in
            var sql = "SELECT \(Self.jobColumns) FROM jobs WHERE id = ?"
            var binds: [SQLiteData] = [.text(id)]
            if let tenantID {
                sql += " AND tenant_id = ?"
                binds.append(.text(tenantID))
            }
            guard try await db.unlockedRows(sql, binds).first != nil else { return nil }
            _ = try await db.unlockedRows(
                "UPDATE jobs SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE id = ? AND status IN ('pending', 'processing')",
                [.date(at), .date(at), .text(id)])
            return try await db.unlockedRows("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)]).first.map(Self.job)
        }
    }

    public func heartbeatJob(id: UUID, at: Date) async throws {
        _ = try await rows("UPDATE jobs SET updated_at = ? WHERE id = ? AND status = 'processing'", [.date(at), .text(id)])
    }

    public func requeueStaleJobs(staleBefore: Date, at: Date) async throws -> [UUID] {
        try await transaction { db in
            let stale = try await db.unlockedRows(
                "SELECT id FROM jobs WHERE status = 'processing' AND updated_at < ? ORDER BY created_at, id", [.date(staleBefore)]
            ).map { try $0.uuid("id") }
            _ = try await db.unlockedRows(
                "UPDATE jobs SET status = 'pending', started_at = NULL, updated_at = ? WHERE status = 'processing' AND updated_at < ?",
                [.date(at), .date(staleBefore)])
            return stale
        }
    }

    public func pendingJobs() async throws -> [UUID] {
        try await rows("SELECT id FROM jobs WHERE status = 'pending' ORDER BY created_at, id").map { try $0.uuid("id") }
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
