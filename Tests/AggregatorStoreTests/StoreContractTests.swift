import AggregatorCore
import Foundation
import Testing

@testable import AggregatorStore

/// The store contract: every case runs against SQLite and PostgreSQL and must behave the same.
@Suite("Store contract")
struct StoreContractTests {
    @Test("tenants: create, look up by id and key, list in creation order", arguments: Backend.allCases)
    func tenants(backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = try await store.createTenant(name: "acme", keyHash: "hash-a", keyPrefix: "sk-agg-aaaa")
            let b = try await store.createTenant(name: "globex", keyHash: "hash-b", keyPrefix: "sk-agg-bbbb")
            #expect(a.active && a.name == "acme" && a.keyPrefix == "sk-agg-aaaa")
            #expect(try await store.tenant(id: a.id) == a)
            #expect(try await store.tenant(keyHash: "hash-b") == TenantRecord(tenant: b, keyHash: "hash-b"))
            #expect(try await store.tenant(keyHash: "nope") == nil)
            #expect(try await store.tenant(id: UUID()) == nil)
            #expect(try await store.tenants().map(\.id) == [a.id, b.id])
            await #expect(throws: (any Error).self) {
                _ = try await store.createTenant(name: "dup", keyHash: "hash-a", keyPrefix: "x")
            }
        }
    }

    @Test("tenants: rotate and deactivate change the record and its updated_at", arguments: Backend.allCases)
    func rotateAndDeactivate(backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = try await store.createTenant(name: "acme", keyHash: "old", keyPrefix: "sk-agg-old")
            try await Task.sleep(for: .milliseconds(5))
            let rotated = try #require(try await store.rotateTenantKey(id: a.id, keyHash: "new", keyPrefix: "sk-agg-new"))
            #expect(rotated.keyPrefix == "sk-agg-new" && rotated.updatedAt > a.updatedAt && rotated.createdAt == a.createdAt)
            #expect(try await store.tenant(keyHash: "old") == nil)
            #expect(try await store.tenant(keyHash: "new")?.tenant.id == a.id)

            let inactive = try #require(try await store.setTenantActive(id: a.id, active: false))
            #expect(!inactive.active)
            #expect(try await store.tenant(keyHash: "new")?.tenant.active == false)
            #expect(try await store.setTenantActive(id: UUID(), active: false) == nil)
            #expect(try await store.rotateTenantKey(id: UUID(), keyHash: "x", keyPrefix: "x") == nil)
        }
    }

    @Test("tenants: updatedSince returns exactly the records changed at or after the instant", arguments: Backend.allCases)
    func updatedSince(backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = try await store.createTenant(name: "a", keyHash: "ha", keyPrefix: "pa")
            let b = try await store.createTenant(name: "b", keyHash: "hb", keyPrefix: "pb")
            #expect(Set(try await store.tenantRecords(updatedSince: .distantPast).map(\.tenant.id)) == [a.id, b.id])
            try await Task.sleep(for: .milliseconds(20))
            let changed = try #require(try await store.setTenantActive(id: a.id, active: false))
            let since = try await store.tenantRecords(updatedSince: changed.updatedAt)
            #expect(since.map(\.tenant.id) == [a.id])
            #expect(since.first?.tenant.active == false && since.first?.keyHash == "ha")
            #expect(try await store.tenantRecords(updatedSince: changed.updatedAt.addingTimeInterval(1)).isEmpty)
        }
    }

    @Test("prices: seeded table, upsert, one default per provider, delete", arguments: Backend.allCases)
    func prices(backend: Backend) async throws {
        try await withStore(backend) { store in
            let seeded = try await store.prices()
            #expect(seeded.count == 12)
            let stub = try #require(seeded.first { $0.provider == "stub" })
            #expect(stub.isDefault && stub.inputPerMillion == usd("1") && stub.outputPerMillion == usd("2"))
            #expect(seeded.first { $0.model == "gpt-4o-mini" }?.outputPerMillion.description == "0.6000000000")
            #expect(seeded.first { $0.model == "dall-e-3" }?.imagePrice == usd("0.04"))

            let added = try await store.upsertPrice(
                ModelPrice(provider: "openai", model: "gpt-4o-mini-2024", inputPerMillion: usd("0.1234"), outputPerMillion: usd("9.8765")))
            #expect(added.inputPerMillion == usd("0.1234") && added.outputPerMillion == usd("9.8765") && !added.isDefault)
            let changed = try await store.upsertPrice(
                ModelPrice(provider: "openai", model: "gpt-4o-mini-2024", inputPerMillion: usd("0.2"), outputPerMillion: usd("0.3")))
            #expect(changed.id == added.id && changed.inputPerMillion == usd("0.2"))
            #expect(try await store.prices().count == 13)

            // A second default row for a provider replaces the first as the default.
            _ = try await store.upsertPrice(
                ModelPrice(provider: "stub", model: "fallback", inputPerMillion: usd("5"), outputPerMillion: usd("6"), isDefault: true))
            let stubDefaults = try await store.prices().filter { $0.provider == "stub" && $0.isDefault }
            #expect(stubDefaults.map(\.model) == ["fallback"])

            #expect(try await store.deletePrice(provider: "openai", model: "gpt-4o-mini-2024"))
            #expect(try await !store.deletePrice(provider: "openai", model: "gpt-4o-mini-2024"))
            #expect(try await store.prices().count == 13)
        }
    }

    @Test("prices: lookup is exact model, then longest priced prefix, then the provider default, else unpriced", arguments: Backend.allCases)
    func priceLookupOrder(backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await store.upsertPrice(
                ModelPrice(provider: "claude", model: "claude-3-5-haiku-2024", inputPerMillion: usd("7"), outputPerMillion: usd("8")))
            let table = PriceTable(try await store.prices())
            #expect(table.price(provider: "claude", model: "claude-3-5-haiku")?.inputPerMillion == usd("0.8"))
            #expect(table.price(provider: "claude", model: "claude-3-5-haiku-20241022")?.model == "claude-3-5-haiku-2024")
            #expect(table.price(provider: "claude", model: "claude-3-5-haiku-latest")?.model == "claude-3-5-haiku")
            #expect(table.price(provider: "stub", model: "anything")?.isDefault == true)
            #expect(table.price(provider: "claude", model: "unknown-model") == nil)
            let unpriced = table.cost(provider: "openai", model: "o9", tokensIn: 10, tokensOut: 10)
            #expect(unpriced.unpriced && unpriced.cost == .zero)
            #expect(table.cost(provider: "stub", model: "echo", tokensIn: 3, tokensOut: 7).cost.description == "0.0000170000")
        }
    }

    @Test("routes: set, replace, list by alias, delete", arguments: Backend.allCases)
    func routes(backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await store.setRoute(ModelRoute(alias: "smart", targets: ["openai/gpt-4o", "claude/claude-sonnet-4"]))
            _ = try await store.setRoute(ModelRoute(alias: "fast", targets: ["stub/echo"]))
            _ = try await store.setRoute(ModelRoute(alias: "smart", targets: ["claude/claude-sonnet-4", "openai/gpt-4o"]))
            #expect(
                try await store.routes() == [
                    ModelRoute(alias: "fast", targets: ["stub/echo"]),
                    ModelRoute(alias: "smart", targets: ["claude/claude-sonnet-4", "openai/gpt-4o"]),
                ])
            #expect(try await store.deleteRoute(alias: "fast"))
            #expect(try await !store.deleteRoute(alias: "fast"))
            #expect(try await store.routes().map(\.alias) == ["smart"])
        }
    }

    @Test("record: the same batch written twice lands once (jobs, usage and sums)", arguments: Backend.allCases)
    func recordIsIdempotent(backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let price = ModelPrice(provider: "stub", model: "*", inputPerMillion: usd("1.0001"), outputPerMillion: usd("2.0003"))
            let at = instant("2025-03-01T10:00:00.123Z")
            let batch = [
                generation(tenant: tenant.id, at: at, tokensIn: 13, tokensOut: 17, price: price),
                generation(tenant: tenant.id, at: at.addingTimeInterval(1), tokensIn: 999_999, tokensOut: 1, price: price),
                generation(tenant: tenant.id, at: at.addingTimeInterval(2), tokensIn: 5, tokensOut: 0, price: price, withUsage: false),
            ]
            try await store.record(batch)
            try await store.record(batch)
            try await store.record(Array(batch.prefix(1)))

            let usage = try await store.usageRecords(tenantID: tenant.id, limit: 100)
            #expect(usage.count == 2)
            #expect(usage.map(\.id) == [batch[1].usage!.id, batch[0].usage!.id])
            #expect(usage.first == batch[1].usage)
            #expect(try await store.job(id: batch[2].job.id) == batch[2].job)
            #expect(try await store.usageRecords(tenantID: UUID(), limit: 10).isEmpty)
            #expect(try await store.usageRecords(tenantID: nil, limit: 1).count == 1)

            let jobs = try #require(store as? any JobStore)
            let total = try await jobs.usageSummary(tenantID: tenant.id, from: nil, to: nil, groupBy: [])
            let expected = price.cost(tokensIn: 13 + 999_999, tokensOut: 17 + 1)
            #expect(total == [UsageAggregate(requests: 2, tokensIn: 1_000_012, tokensOut: 18, cost: expected)])
        }
    }
}
