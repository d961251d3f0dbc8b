import AggregatorCore
import Foundation
import Testing

/// The request path's mirror of tenants, prices and routes, refreshing from the real SQLite store.
@Suite struct DirectoryTests {
    /// Checks the mirror every 200 µs for 4 ms, past the end of any refresh that overlapped the change (the
    /// next refresh would hide a stale write again).
    static func watch(_ check: () async throws -> Void) async throws {
        for _ in 0..<20 {
            try await check()
            try await Task.sleep(for: .microseconds(200))
        }
    }

    /// A refresh that read a tenant just before a change through this instance must not put the old state
    /// back when it finishes after the change (an old key worked again, a deactivated tenant was let in).
    /// The mirror refreshes every millisecond here, so many refreshes overlap the changes.
    @Test func aRefreshThatReadBeforeAChangeNeverUndoesIt() async throws {
        try await withStore(.sqlite) { store in
            let directory = Directory(store: store, configuredRoutes: [], interval: .milliseconds(1), logger: testLogger)
            var key = APIKey.generate()
            let tenant = try await store.createTenant(name: "acme", keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
            directory.remember(TenantRecord(tenant: tenant, keyHash: APIKey.hash(key)))
            let refreshing = Task { await directory.run() }
            defer { refreshing.cancel() }

            for round in 1...60 {
                let next = APIKey.generate()
                let rotated = try #require(try await store.rotateTenantKey(id: tenant.id, keyHash: APIKey.hash(next), keyPrefix: APIKey.displayPrefix(next)))
                directory.remember(TenantRecord(tenant: rotated, keyHash: APIKey.hash(next)))
                try await Self.watch {
                    let owner = try await directory.tenant(keyHash: APIKey.hash(key))
                    #expect(owner == nil, "round \(round): the replaced key works")
                }

                directory.remember(try #require(try await store.setTenantActive(id: tenant.id, active: false)))
                try await Self.watch {
                    let owner = try await directory.tenant(keyHash: APIKey.hash(next))
                    #expect(owner?.active == false, "round \(round): still active")
                }

                directory.remember(try #require(try await store.setTenantActive(id: tenant.id, active: true)))
                try await Self.watch {
                    let owner = try await directory.tenant(keyHash: APIKey.hash(next))
                    #expect(owner?.active == true, "round \(round): still inactive")
                }
                key = next
            }
        }
    }

    /// The same for prices changed through this instance.
    @Test func aRefreshThatReadBeforeAPriceChangeNeverUndoesIt() async throws {
        try await withStore(.sqlite) { store in
            let directory = Directory(store: store, configuredRoutes: [], interval: .milliseconds(1), logger: testLogger)
            try await directory.refresh()
            let refreshing = Task { await directory.run() }
            defer { refreshing.cancel() }

            for round in 1...60 {
                let price = ModelPrice(provider: "stub", model: "echo", inputPerMillion: usd("\(round)"), outputPerMillion: usd("1"), updatedAt: Date())
                _ = try await store.upsertPrice(price)
                try await directory.reloadPrices()
                try await Self.watch {
                    let seen = directory.prices.price(provider: "stub", model: "echo")?.inputPerMillion
                    #expect(seen == usd("\(round)"), "round \(round): an older price came back")
                }
            }
        }
    }
}
