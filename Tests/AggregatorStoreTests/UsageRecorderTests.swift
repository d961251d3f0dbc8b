import AggregatorCore
import Foundation
import Synchronization
import Testing

@testable import AggregatorStore

/// The batching usage writer against the real SQLite store.
@Suite struct UsageRecorderTests {
    static let price = ModelPrice(provider: "stub", model: "echo", inputPerMillion: usd("1"), outputPerMillion: usd("2"))

    /// A flush writes what was queued when it began; rows arriving meanwhile wait for the next one, so under
    /// steady load each commit carries everything of its interval instead of the few rows of the last commit.
    @Test func aFlushTakesOnlyTheRowsQueuedBeforeIt() async throws {
        try await withStore(.sqlite) { store in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let recorder = UsageRecorder(store: store, batchSize: 2, logger: testLogger)
            let batches = Mutex<[Int]>([])
            recorder.onRecorded { stored in
                let first = batches.withLock { b in
                    b.append(stored.count)
                    return b.count == 1
                }
                // A generation finishing while the flush is under way.
                if first { recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: 9, tokensOut: 9, price: Self.price)) }
            }
            for n in 1...3 { recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: n, tokensOut: n, price: Self.price)) }

            try await recorder.flush()
            #expect(batches.withLock { $0 } == [2, 1])
            #expect(recorder.pendingCount == 1)
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).map(\.tokensIn).sorted() == [1, 2, 3])

            try await recorder.flush()
            #expect(recorder.pendingCount == 0)
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).map(\.tokensIn).sorted() == [1, 2, 3, 9])
        }
    }

    /// Graceful shutdown cancels the writer while it writes. A cancelled write used to stop between BEGIN and
    /// COMMIT with its ROLLBACK cancelled too, leaving SQLite's one connection inside a transaction; every later
    /// write then failed and the final flush lost its rows. Writes now run to their end.
    @Test func aCancelledWriteStillEndsItsTransaction() async throws {
        try await withStore(.sqlite) { store in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            for n in 1...20 {
                let write = Task { try await store.record([generation(tenant: tenant.id, at: Date(), tokensIn: n, tokensOut: 1, price: Self.price)]) }
                write.cancel()
                try await write.value
            }
            try await store.record([generation(tenant: tenant.id, at: Date(), tokensIn: 100, tokensOut: 1, price: Self.price)])
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 50).count == 21)
        }
    }
}
