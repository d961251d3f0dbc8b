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

    /// A flush called while another one writes waits for it: `flush()` returning means every row recorded before
    /// the call is stored. (It used to return at once when the other flush had already taken the rows, so a test
    /// or a shutdown reading the store right after could miss a row still in that flush's transaction.)
    @Test func aFlushCalledDuringAnotherWaitsForItsRows() async throws {
        try await withStore(.sqlite) { store in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let recorder = UsageRecorder(store: store, batchSize: 1, logger: testLogger)
            let events = EventLog()
            let second = Mutex<Task<Void, any Error>?>(nil)
            recorder.onRecorded { stored in
                let tokens = stored.map { $0.usage?.tokensIn ?? 0 }
                events.append("stored \(tokens)")
                // Row 1 is stored; the first flush takes row 2 next. A second flush starts now.
                if tokens == [1] {
                    let task = Task {
                        try await recorder.flush()
                        events.append("second flush returned")
                    }
                    second.withLock { $0 = task }
                }
            }
            for n in 1...2 { recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: n, tokensOut: n, price: Self.price)) }

            try await recorder.flush()
            try await #require(second.withLock { $0 }).value
            #expect(events.entries == ["stored [1]", "stored [2]", "second flush returned"])
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).map(\.tokensIn).sorted() == [1, 2])
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

/// What happened, in order, from any task.
private final class EventLog: Sendable {
    private let log = Mutex<[String]>([])
    func append(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }
}
