import AggregatorCore
import Foundation
import PostgresNIO
import SQLiteNIO
import Testing

@testable import AggregatorStore

/// Cached prompt tokens in both stores (SPEC §7): kept on usage and job rows, summed by `usageSummary`, priced by
/// the seeded cache prices; rows written before the migration read as 0.
@Suite("Cache tokens in the stores")
struct CacheTokenStoreTests {
    /// SPEC §7's seeded cache prices (read, write; nil: the input price), by provider and model.
    static let seededCachePrices: [String: (String?, String?)] = [
        "openai/gpt-4o-mini": ("0.075", nil), "openai/gpt-4o": ("1.25", nil), "openai/gpt-4-turbo": (nil, nil),
        "openai/gpt-3.5-turbo": (nil, nil), "openai/dall-e-3": (nil, nil), "claude/claude-3-haiku": ("0.03", "0.30"),
        "claude/claude-3-5-haiku": ("0.08", "1.00"), "claude/claude-3-5-sonnet": ("0.30", "3.75"),
        "claude/claude-3-opus": ("1.50", "18.75"), "claude/claude-sonnet-4": ("0.30", "3.75"), "ollama/*": (nil, nil),
        "stub/*": (nil, nil),
    ]

    @Test("the seeded prices carry SPEC §7's cache prices", arguments: Backend.allCases)
    func seededCachePrices(backend: Backend) async throws {
        try await withStore(backend) { store in
            let prices = try await store.prices()
            #expect(prices.count == Self.seededCachePrices.count)
            for price in prices {
                let want = try #require(Self.seededCachePrices["\(price.provider)/\(price.model)"], "\(price.provider)/\(price.model)")
                #expect(price.cacheReadPerMillion == want.0.map(usd), "\(price.model)")
                #expect(price.cacheWritePerMillion == want.1.map(usd), "\(price.model)")
            }
        }
    }

    @Test("upsertPrice sets cache prices and clears them again", arguments: Backend.allCases)
    func upsertCachePrices(backend: Backend) async throws {
        try await withStore(backend) { store in
            let set = try await store.upsertPrice(
                ModelPrice(
                    provider: "claude", model: "claude-sonnet-4", inputPerMillion: usd("3"), outputPerMillion: usd("15"),
                    cacheReadPerMillion: usd("0.3001"), cacheWritePerMillion: usd("3.7499")))
            #expect(set.cacheReadPerMillion == usd("0.3001") && set.cacheWritePerMillion == usd("3.7499"))
            let cleared = try await store.upsertPrice(
                ModelPrice(provider: "claude", model: "claude-sonnet-4", inputPerMillion: usd("3"), outputPerMillion: usd("15")))
            #expect(cleared.cacheReadPerMillion == nil && cleared.cacheWritePerMillion == nil)
            let stored = try #require(try await store.prices().first { $0.provider == "claude" && $0.model == "claude-sonnet-4" })
            #expect(stored.cacheReadPerMillion == nil && stored.cacheWritePerMillion == nil)
        }
    }

    @Test("usage and job rows keep their cache tokens", arguments: Backend.allCases)
    func rowsKeepCacheTokens(backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let row = MixedRow(
                tenant: tenant.id, at: instant("2025-05-05T05:05:05.005Z"), price: Self.sonnet, tokensIn: 3_276, tokensOut: 41, cacheRead: 3_210,
                cacheWrite: 52)
            try await store.record([row.generation])
            let usage = try #require(try await store.usageRecords(tenantID: tenant.id, limit: 10).first)
            #expect([usage.tokensIn, usage.tokensOut, usage.cacheReadTokens, usage.cacheWriteTokens] as [Int] == [3_276, 41, 3_210, 52])
            #expect(usage.cost.description == "0.0018150000")
            let job = try #require(try await store.job(id: row.generation.job.id))
            #expect([job.tokensIn, job.tokensOut, job.cacheReadTokens, job.cacheWriteTokens] as [Int] == [3_276, 41, 3_210, 52])
            #expect(job.cost == usage.cost)

            // An async job's outcome is written by finishJob.
            let jobs = try #require(store as? any JobStore)
            let at = instant("2025-05-05T06:00:00.000Z")
            let pending = Job(tenantID: tenant.id, status: .pending, input: "summarise", createdAt: at, updatedAt: at)
            try await jobs.insertJob(pending)
            var finished = try #require(try await jobs.claimJob(id: pending.id, owner: "test", lease: JobLease()))
            finished.status = .completed
            finished.tokensIn = 4_183
            finished.cacheReadTokens = 4_096
            finished.cacheWriteTokens = 64
            #expect(try await jobs.finishJob(finished, attempt: 1, usage: nil) != nil)
            let read = try #require(try await store.job(id: pending.id))
            #expect([read.tokensIn, read.cacheReadTokens, read.cacheWriteTokens] as [Int] == [4_183, 4_096, 64])
        }
    }

    static let sonnet = ModelPrice(
        provider: "claude", model: "claude-sonnet-4", inputPerMillion: usd("3"), outputPerMillion: usd("15"), cacheReadPerMillion: usd("0.30"),
        cacheWritePerMillion: usd("3.75"))
    static let mini = ModelPrice(
        provider: "openai", model: "gpt-4o-mini", inputPerMillion: usd("0.15"), outputPerMillion: usd("0.60"), cacheReadPerMillion: usd("0.075"))
    /// No cache prices: cached tokens cost the input price.
    static let odd = ModelPrice(provider: "stub", model: "echo", inputPerMillion: usd("1.0001"), outputPerMillion: usd("2.0003"))

    @Test("a thousand mixed rows: every grouping's sums are the cost of its summed token kinds, to the last digit", arguments: Backend.allCases)
    func thousandMixedRows(backend: Backend) async throws {
        try await withStore(backend) { try await Self.thousandMixedRows(in: $0) }
    }

    static func thousandMixedRows(in store: any Store) async throws {
        let jobs = try #require(store as? any JobStore)
        var tenants: [UUID] = []
        for name in ["a", "b", "c"] { tenants.append(try await store.createTenant(name: name, keyHash: "h" + name, keyPrefix: "p" + name).id) }
        let prices = [Self.sonnet, Self.mini, Self.odd]
        let start = instant("2025-02-27T00:00:00.000Z")
        var made: [MixedRow] = []
        for i in 0..<1_000 {
            let tokensIn = 1 + (i * 7_919) % 200_003
            let cacheRead = i % 3 == 0 ? 0 : (i * 104_729) % (tokensIn + 1)
            let cacheWrite = i % 5 == 0 ? 0 : (i * 1_299_709) % (tokensIn - cacheRead + 1)
            made.append(
                MixedRow(
                    tenant: tenants[i % 3], at: start.addingTimeInterval(Double(i) * 345.6 + 0.003), price: prices[(i / 3) % 3],
                    tokensIn: tokensIn, tokensOut: (i * 15_485_863) % 8_191, cacheRead: cacheRead, cacheWrite: cacheWrite))
        }
        #expect(made.contains { $0.cacheRead > 0 && $0.cacheWrite > 0 } && made.contains { $0.cacheRead == 0 && $0.cacheWrite == 0 })
        try await store.record(made.map(\.generation))

        // Every combination of PROVIDER, MODEL, TENANT and DAY, over everything and over a ragged range.
        let ragged = SummaryWindow(from: start.addingTimeInterval(43_200.5), to: start.addingTimeInterval(3 * 86_400 + 3_600))
        for mask in 0..<16 {
            let groupBy = UsageGroupBy.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            for window in [SummaryWindow(from: nil, to: nil), ragged] {
                let got = try await jobs.usageSummary(tenantID: nil, from: window.from, to: window.to, groupBy: groupBy)
                let want = Self.expectedSummary(made.filter(window.contains), groupBy: groupBy)
                #expect(got.count == want.count, "\(groupBy) \(window)")
                #expect(Set(got) == Set(want), "\(groupBy) \(window)")
            }
        }
        // A tenant sees only its own rows.
        let own = try await jobs.usageSummary(tenantID: tenants[1], from: nil, to: nil, groupBy: [.model])
        #expect(Set(own) == Set(Self.expectedSummary(made.filter { $0.tenant == tenants[1] }, groupBy: [.model])))
    }

    /// The groups `usageSummary` should return, with the cost computed from the summed token kinds of each price
    /// (in `Decimal`, by `IndependentCost`), checked against the sum of the rows' own costs.
    static func expectedSummary(_ rows: [MixedRow], groupBy: [UsageGroupBy]) -> [UsageAggregate] {
        var groups: [[String]: [MixedRow]] = [:]
        for row in rows {
            let key = UsageGroupBy.allCases.map { g in
                guard groupBy.contains(g) else { return "" }
                switch g {
                case .provider: return row.price.provider
                case .model: return row.price.model
                case .tenant: return row.tenant.uuidString
                case .day: return row.day
                }
            }
            groups[key, default: []].append(row)
        }
        return groups.values.map { members in
            let first = members[0]
            var cost = Money.zero
            for price in Set(members.map(\.price.model)) {
                let same = members.filter { $0.price.model == price }
                let kinds = TokenCounts(
                    tokensIn: same.map(\.tokensIn).reduce(0, +), tokensOut: same.map(\.tokensOut).reduce(0, +),
                    cacheRead: same.map(\.cacheRead).reduce(0, +), cacheWrite: same.map(\.cacheWrite).reduce(0, +))
                cost += IndependentCost.of(kinds, at: same[0].price)
            }
            #expect(members.map(\.generation.job.cost).reduce(.zero, +) == cost, "the rows' costs add up to the cost of their summed tokens")
            return UsageAggregate(
                tenantID: groupBy.contains(.tenant) ? first.tenant : nil, provider: groupBy.contains(.provider) ? first.price.provider : nil,
                model: groupBy.contains(.model) ? first.price.model : nil, day: groupBy.contains(.day) ? first.day : nil, requests: members.count,
                tokensIn: members.map(\.tokensIn).reduce(0, +), tokensOut: members.map(\.tokensOut).reduce(0, +),
                cacheReadTokens: members.map(\.cacheRead).reduce(0, +), cacheWriteTokens: members.map(\.cacheWrite).reduce(0, +), cost: cost)
        }
    }

    @Test("rows written before the cache columns existed read as 0 cache tokens, at the same cost")
    func sqliteRowsBeforeTheMigration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLiteStore.open(path: path, logger: testLogger)
        do {
            #expect(try await store.migrate(to: 1) == 1)
            let tenant = try await store.createTenant(name: "old", keyHash: "h", keyPrefix: "p")
            let jobID = UUID()
            _ = try await store.rows(
                """
                INSERT INTO jobs (id, tenant_id, type, status, input, provider, model, tokens_in, tokens_out, cost_units, created_at, updated_at)
                VALUES (?, ?, 'text', 'completed', 'x', 'claude', 'claude-sonnet-4', 2060, 3, 62250000, 1000, 1000)
                """, [.text(jobID), .text(tenant.id)])
            _ = try await store.rows(
                """
                INSERT INTO usage (id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cost_units, unpriced, created_at)
                VALUES (?, ?, ?, 'claude', 'claude-sonnet-4', 2060, 3, 62250000, 0, 1000)
                """, [.text(UUID()), .text(tenant.id), .text(jobID)])
            #expect(try await store.migrate() == Int(SQLiteStore.latestVersion) - 1)
            try await Self.expectOldRowsReadAsZero(store, tenant: tenant.id, jobID: jobID)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    @Test("PostgreSQL rows (and daily rollups) written before the cache columns existed read as 0 cache tokens")
    func postgresRowsBeforeTheMigration() async throws {
        try await withPostgresStore(migrated: false) { store in
            #expect(try await store.migrate(to: 1) == 1)
            // Raw SQL: the store's own tenant queries read columns of later migrations.
            let tenantID = UUID()
            _ = try await store.query("INSERT INTO tenants (id, name, key_hash, key_prefix) VALUES (\(tenantID), 'old', 'h', 'p')")
            let jobID = UUID()
            _ = try await store.query(
                """
                INSERT INTO jobs (id, tenant_id, type, status, input, provider, model, tokens_in, tokens_out, cost, created_at, updated_at)
                VALUES (\(jobID), \(tenantID), 'text', 'completed', 'x', 'claude', 'claude-sonnet-4', 2060, 3, 0.006225, 'epoch', 'epoch')
                """)
            _ = try await store.query(
                """
                INSERT INTO usage (id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cost, unpriced, created_at)
                VALUES (\(UUID()), \(tenantID), \(jobID), 'claude', 'claude-sonnet-4', 2060, 3, 0.006225, FALSE, 'epoch')
                """)
            _ = try await store.query(
                """
                INSERT INTO usage_daily (tenant_id, day, provider, model, requests, tokens_in, tokens_out, cost)
                VALUES (\(tenantID), '1970-01-01', 'claude', 'claude-sonnet-4', 1, 2060, 3, 0.006225)
                """)
            #expect(try await store.migrate() == Int(PostgresStore.latestVersion) - 1)
            try await Self.expectOldRowsReadAsZero(store, tenant: tenantID, jobID: jobID)
        }
    }

    static func expectOldRowsReadAsZero(_ store: some Store & JobStore, tenant: UUID, jobID: UUID) async throws {
        let usage = try #require(try await store.usageRecords(tenantID: tenant, limit: 10).first)
        #expect([usage.tokensIn, usage.cacheReadTokens, usage.cacheWriteTokens] as [Int] == [2_060, 0, 0])
        #expect(usage.cost.description == "0.0062250000")
        let job = try #require(try await store.job(id: jobID))
        #expect([job.tokensIn, job.cacheReadTokens, job.cacheWriteTokens] as [Int] == [2_060, 0, 0])
        let summary = try await store.usageSummary(tenantID: tenant, from: nil, to: nil, groupBy: [.day])
        #expect(
            summary == [
                UsageAggregate(
                    day: "1970-01-01", requests: 1, tokensIn: 2_060, tokensOut: 3, cacheReadTokens: 0, cacheWriteTokens: 0, cost: usd("0.006225"))
            ])
        // The seeded rows gained their cache prices.
        let sonnet = try #require(try await store.prices().first { $0.model == "claude-sonnet-4" })
        #expect(sonnet.cacheReadPerMillion == usd("0.30") && sonnet.cacheWritePerMillion == usd("3.75"))
    }
}

/// A `usageSummary` range: `from` inclusive, `to` exclusive, nil open.
struct SummaryWindow: Sendable {
    var from: Date?
    var to: Date?

    func contains(_ row: MixedRow) -> Bool { (from.map { row.at >= $0 } ?? true) && (to.map { row.at < $0 } ?? true) }
}

/// One usage row of the mixed-rows test, priced by `ModelPrice.cost`.
struct MixedRow {
    var tenant: UUID
    var at: Date
    var price: ModelPrice
    var tokensIn: Int
    var tokensOut: Int
    var cacheRead: Int
    var cacheWrite: Int
    let generation: Generation

    init(tenant: UUID, at: Date, price: ModelPrice, tokensIn: Int, tokensOut: Int, cacheRead: Int, cacheWrite: Int) {
        self.tenant = tenant
        self.at = at
        self.price = price
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        let cost = price.cost(TokenCounts(tokensIn: tokensIn, tokensOut: tokensOut, cacheRead: cacheRead, cacheWrite: cacheWrite))
        let job = Job(
            tenantID: tenant, status: .completed, input: "hi", result: "ok", provider: price.provider, model: price.model, tokensIn: tokensIn,
            tokensOut: tokensOut, cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, cost: cost, createdAt: at, updatedAt: at,
            startedAt: at, finishedAt: at)
        let usage = UsageRecord(
            tenantID: tenant, jobID: job.id, provider: price.provider, model: price.model, tokensIn: tokensIn, tokensOut: tokensOut,
            cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, cost: cost, unpriced: false, createdAt: at)
        generation = Generation(job: job, usage: usage)
    }

    /// `YYYY-MM-DD`, UTC.
    var day: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: at)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

/// SPEC §7's cost formula in Foundation's `Decimal`, from the prices' decimal text: a second computation, independent
/// of `ModelPrice.cost`'s integer arithmetic.
enum IndependentCost {
    static func of(_ tokens: TokenCounts, at price: ModelPrice) -> Money {
        func decimal(_ money: Money) -> Decimal { Decimal(string: money.description)! }
        let input = decimal(price.inputPerMillion)
        let read = price.cacheReadPerMillion.map(decimal) ?? input
        let write = price.cacheWritePerMillion.map(decimal) ?? input
        let total =
            Decimal(tokens.tokensIn - tokens.cacheRead - tokens.cacheWrite) * input + Decimal(tokens.cacheRead) * read
            + Decimal(tokens.cacheWrite) * write + Decimal(tokens.tokensOut) * decimal(price.outputPerMillion)
        return try! Money(parsing: "\(total / 1_000_000)")
    }
}
