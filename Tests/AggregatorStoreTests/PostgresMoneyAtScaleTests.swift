import AggregatorCore
import Foundation
import PostgresNIO
import Testing

@testable import AggregatorStore

/// Finance's query over a million usage rows: exact to the last digit, and read from the rollup.
@Suite("PostgreSQL usage at scale")
struct PostgresMoneyAtScaleTests {
    static let rows = 1_000_000
    static let price = ModelPrice(provider: "stub", model: "*", inputPerMillion: try! Money(parsing: "0.1234"), outputPerMillion: try! Money(parsing: "1.2345"))

    /// A million usage rows over 3 tenants and 30 January days, with awkward token counts, written by one
    /// statement that feeds the same rollup upsert the store's `record` uses.
    func loadFixture(_ store: PostgresStore, tenants: [UUID]) async throws {
        var sql = PostgresQuery.StringInterpolation.empty
        sql.appendLiteral("WITH inserted AS (INSERT INTO usage (tenant_id, provider, model, tokens_in, tokens_out, cost, created_at) ")
        sql.appendLiteral("SELECT (ARRAY[")
        sql.appendInterpolation(tenants[0])
        sql.appendLiteral("::uuid, ")
        sql.appendInterpolation(tenants[1])
        sql.appendLiteral("::uuid, ")
        sql.appendInterpolation(tenants[2])
        sql.appendLiteral(
            """
            ::uuid])[i % 3 + 1], 'stub', CASE WHEN i % 5 = 0 THEN 'slow' ELSE 'echo' END, tin, tout,
                (tin * 0.1234 + tout * 1.2345) / 1000000,
                timestamptz '2025-01-01 00:00:00+00' + ((i / 3) % 30) * interval '1 day' + (i % 86399) * interval '1 second'
            FROM generate_series(1,
            """)
        sql.appendInterpolation(Self.rows)
        sql.appendLiteral(
            """
            ) AS i, LATERAL (SELECT 1 + (i * 7919) % 4099 AS tin, (i * 104729) % 8191 AS tout) AS t
            RETURNING tenant_id, created_at, provider, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost)

            """)
        sql.appendLiteral(PostgresStore.rollupFromInserted)
        _ = try await store.query(PostgresQuery(stringInterpolation: sql))
        _ = try await store.query("ANALYZE usage")
        _ = try await store.query("ANALYZE usage_daily")
    }

    @Test("per-tenant sums over 1,000,000 rows equal the cost of the summed tokens, and the plan never scans raw usage")
    func millionRows() async throws {
        try await withPostgresStore { store in
            var tenants: [UUID] = []
            for i in 0..<3 { tenants.append(try await store.createTenant(name: "t\(i)", keyHash: "h\(i)", keyPrefix: "p\(i)").id) }
            try await loadFixture(store, tenants: tenants)

            let month = (instant("2025-01-01T00:00:00.000Z"), instant("2025-02-01T00:00:00.000Z"))
            let summary = try await store.usageSummary(tenantID: nil, from: month.0, to: month.1, groupBy: [.tenant])
            #expect(summary.count == 3)
            #expect(summary.map(\.requests).reduce(0, +) == Self.rows)
            for row in summary {
                #expect(row.cost == Self.price.cost(tokensIn: row.tokensIn, tokensOut: row.tokensOut), "tenant \(String(describing: row.tenantID))")
                // The rollup agrees with the raw rows.
                let raw = try #require(
                    try await store.query(
                        "SELECT count(*) AS n, sum(tokens_in)::bigint AS tin, sum(tokens_out)::bigint AS tout, sum(cost)::text AS cost FROM usage WHERE tenant_id = \(row.tenantID!)"
                    ).first)
                #expect(try raw.int("n") == row.requests && raw.int("tin") == row.tokensIn && raw.int("tout") == row.tokensOut)
                #expect(try raw.money("cost") == row.cost)
            }
            let byDay = try await store.usageSummary(tenantID: tenants[1], from: month.0, to: month.1, groupBy: [.tenant, .day])
            #expect(byDay.count == 30)
            for row in byDay { #expect(row.cost == Self.price.cost(tokensIn: row.tokensIn, tokensOut: row.tokensOut)) }

            // Whole days read only the rollup.
            let wholeMonth = try await plan(store, PostgresStore.usageSummaryQuery(tenantID: nil, from: month.0, to: month.1, groupBy: [.tenant, .day]))
            #expect(wholeMonth.contains("usage_daily"))
            #expect(!mentionsRawUsage(wholeMonth), "\(wholeMonth)")
            // Ragged ends read raw rows through an index, never a sequential scan.
            let ragged = try await plan(
                store,
                PostgresStore.usageSummaryQuery(
                    tenantID: tenants[0], from: instant("2025-01-03T12:00:00.000Z"), to: instant("2025-01-20T06:30:00.000Z"), groupBy: [.tenant]))
            #expect(ragged.contains("usage_daily") && ragged.contains("Index"), "\(ragged)")
            #expect(!ragged.contains("Seq Scan on usage "), "\(ragged)")
            let raggedSum = try await store.usageSummary(
                tenantID: tenants[0], from: instant("2025-01-03T12:00:00.000Z"), to: instant("2025-01-20T06:30:00.000Z"), groupBy: [])
            let rawSum = try #require(
                try await store.query(
                    """
                    SELECT count(*) AS n, sum(cost)::text AS cost FROM usage WHERE tenant_id = \(tenants[0])
                    AND created_at >= '2025-01-03T12:00:00Z' AND created_at < '2025-01-20T06:30:00Z'
                    """
                ).first)
            #expect(try raggedSum.first?.requests == rawSum.int("n") && raggedSum.first?.cost == rawSum.money("cost"))
        }
    }

    func plan(_ store: PostgresStore, _ query: PostgresQuery) async throws -> String {
        let explain = PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds)
        return try await store.query(explain).map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
    }

    /// Any access to the raw `usage` table (as opposed to `usage_daily`).
    func mentionsRawUsage(_ plan: String) -> Bool {
        plan.split(separator: "\n").contains { line in line.contains(" on usage ") || line.hasSuffix(" on usage") }
    }
}
