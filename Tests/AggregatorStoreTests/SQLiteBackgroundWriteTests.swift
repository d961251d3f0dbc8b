import Foundation
import SQLiteNIO
import Synchronization
import Testing

@testable import AggregatorCore
@testable import AggregatorStore

/// Metering writes that can wait go through the embedded store's second connection, whose thread is in Linux's
/// idle scheduling class; everything else stays on the main connection at normal priority.
@Suite struct SQLiteBackgroundWriteTests {
    static let price = ModelPrice(provider: "stub", model: "echo", inputPerMillion: usd("1"), outputPerMillion: usd("2"))

    /// Opens a migrated store whose connections report, for every usage row they insert, which connection inserted
    /// it and whether the inserting thread was in the idle class (a per-connection TEMP trigger calling a function
    /// of ours). `spareCPU` stands for the machine's load: by default the machine always has CPU to spare.
    func withObservedStore(
        spareCPU: @escaping @Sendable () -> Bool = { true }, liftAfter: Duration = SQLiteStore.liftAfter,
        _ body: (SQLiteStore, Inserts) async throws -> Void
    ) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try await SQLiteStore.open(path: path, logger: testLogger, spareCPU: spareCPU, liftAfter: liftAfter)
        do {
            try await store.migrate()
            let inserts = Inserts()
            for (lane, name) in [(store.main, Insert.Lane.main), (store.background, .background)] {
                try await lane.connection.install(
                    customFunction: SQLiteCustomFunction("note_insert_thread", argumentCount: 0, indirect: true) { _ in
                        inserts.append(Insert(lane: name, idleClass: IdleScheduling.policy() == IdleScheduling.policy))
                        return nil
                    })
                _ = try await lane.rows(
                    "CREATE TEMP TRIGGER note_usage_insert AFTER INSERT ON main.usage BEGIN SELECT note_insert_thread(); END")
            }
            try await body(store, inserts)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    @Test func backgroundRowsAreInsertedOnAnIdleClassThreadAndNormalRowsAreNot() async throws {
        // Never lifted here (see the lifting tests), so the class the rows were inserted in is the idle one.
        try await withObservedStore(liftAfter: .seconds(3600)) { store, inserts in
            #if os(Linux)
            #expect(store.idleThread != nil, "the test runs as root, which may lift a thread out of the idle class")
            #endif
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let background = (1...3).map { generation(tenant: tenant.id, at: Date(), tokensIn: $0, tokensOut: 1, price: Self.price) }
            try await store.record(background, urgency: .background)
            #expect(inserts.all == Array(repeating: Insert(lane: .background, idleClass: true), count: 3))

            try await store.record([generation(tenant: tenant.id, at: Date(), tokensIn: 4, tokensOut: 1, price: Self.price)], urgency: .normal)
            #expect(inserts.all.last == Insert(lane: .main, idleClass: false))

            // Committed rows are read back through the main connection at once, the job rows with them.
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).map(\.tokensIn).sorted() == [1, 2, 3, 4])
            for row in background { #expect(try await store.job(id: row.job.id)?.tokensIn == row.job.tokensIn) }
            // A batch written again (a retry after a failure the writer did not see) still lands once.
            try await store.record(background, urgency: .background)
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).count == 4)
        }
    }

    /// On a machine without CPU to spare an idle-class thread would hold SQLite's write lock for seconds, so a
    /// background batch is written in transactions of `rowsPerInsert` rows, each on the idle thread only while the
    /// machine has CPU to spare.
    @Test func backgroundRowsGoToTheIdleThreadOnlyWhileTheMachineHasCPUToSpare() async throws {
        let answers = Mutex<[Bool]>([true, false, true])
        try await withObservedStore(spareCPU: { answers.withLock { $0.isEmpty ? true : $0.removeFirst() } }) { store, inserts in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let rows = (1...250).map { generation(tenant: tenant.id, at: Date(), tokensIn: $0, tokensOut: 1, price: Self.price) }
            try await store.record(rows, urgency: .background)
            #expect(inserts.lanes == Array(repeating: .background, count: 100) + Array(repeating: .main, count: 100) + Array(repeating: .background, count: 50))
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 300).count == 250)
        }
    }

    @Test func theMachinesSpareCPUIsReadFromProcStat() {
        let line: Substring = "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0"
        let sample = HostCPU.parse(line)
        #expect(sample?.idle == 46_828_483 + 16_683)
        #expect(sample?.total == 10_132_153 + 290_696 + 3_084_719 + 46_828_483 + 16_683 + 0 + 25_195 + 0)
        #expect(HostCPU.parse("cpu0 1 2 3 4 5 6 7 8") == nil)
        #expect(HostCPU.parse("cpu 1 2 3") == nil)
        // 10 % idle is enough, 9 % is not; fewer than ten ticks say nothing; idle going backwards is no idle.
        let start = HostCPU.Sample(idle: 100, total: 1_000)
        #expect(HostCPU.hasSpare(from: start, to: .init(idle: 110, total: 1_100)) == true)
        #expect(HostCPU.hasSpare(from: start, to: .init(idle: 109, total: 1_100)) == false)
        #expect(HostCPU.hasSpare(from: start, to: .init(idle: 109, total: 1_009)) == nil)
        #expect(HostCPU.hasSpare(from: start, to: .init(idle: 90, total: 1_100)) == false)
        #if os(Linux)
        #expect(HostCPU.read() != nil)
        #endif
    }

    /// The writer's periodic flush is a background write while the backlog is small; `flush()` (callers wait for
    /// it) and a backlog over `backgroundBacklog` are written at normal priority.
    @Test func theRecorderWritesASmallBacklogInTheBackgroundAndALargeOneNow() async throws {
        try await withObservedStore { store, inserts in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let recorder = UsageRecorder(store: store, interval: .milliseconds(20), backgroundBacklog: 3, logger: testLogger)
            for n in 1...3 { recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: n, tokensOut: 1, price: Self.price)) }
            let writer = Task { await recorder.run() }
            try await Self.waitUntil { inserts.all.count == 3 }
            writer.cancel()
            await writer.value
            #expect(inserts.lanes == [.background, .background, .background])

            inserts.reset()
            for n in 1...4 { recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: n, tokensOut: 2, price: Self.price)) }
            try await recorder.flush(adaptive: true)
            #expect(inserts.lanes == [.main, .main, .main, .main])

            inserts.reset()
            recorder.record(generation(tenant: tenant.id, at: Date(), tokensIn: 9, tokensOut: 9, price: Self.price))
            try await recorder.flush()
            #expect(inserts.lanes == [.main])
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 20).count == 8)
        }
    }

    /// The background connection does not queue behind the main one: a background write finishes while a long
    /// operation holds the main connection (reads never wait for it either: WAL).
    @Test func aBackgroundWriteDoesNotWaitForTheMainConnection() async throws {
        try await withObservedStore { store, _ in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let (held, heldSignal) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await store.main.gate.run {
                    heldSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in held { break }

            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await store.record(
                        [generation(tenant: tenant.id, at: Date(), tokensIn: 1, tokensOut: 1, price: Self.price)], urgency: .background)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    return false
                }
                let first = try await group.next()!
                // A write stuck behind the main connection gets it now and ends, so the test fails instead of hanging.
                releaseSignal.finish()
                group.cancelAll()
                return first
            }
            try await holder.value
            #expect(finished, "the background write waited for the main connection")
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).count == 1)
        }
    }

    /// A write on the main connection while the background one holds SQLite's write lock waits for it (busy
    /// timeout) instead of failing with "database is locked"; both land.
    @Test func writersOnBothConnectionsTakeTurns() async throws {
        try await withStore(.sqlite) { any in
            let store = try #require(any as? SQLiteStore)
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
            let lockHolder = Task {
                try await store.backgroundTransaction { db in
                    _ = try await db.unlockedRows("UPDATE tenants SET name = 'held' WHERE id = ?", [.text(tenant.id.uuidString.lowercased())])
                    lockedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in locked { break }
            let creating = Task { try await store.createTenant(name: "second", keyHash: "h2", keyPrefix: "p2") }
            try await Task.sleep(for: .milliseconds(200))
            releaseSignal.finish()
            try await lockHolder.value
            let second = try await creating.value
            #expect(try await store.tenants().map(\.name).sorted() == ["held", "second"])
            #expect(second.name == "second")
        }
    }

    /// A background write still running after `liftAfter` runs on at normal priority until it ends; then the thread
    /// is back in the idle class.
    @Test func aBackgroundWriteStillRunningAfterLiftAfterIsLiftedUntilItEnds() async throws {
        try await withObservedStore(liftAfter: .milliseconds(1)) { store, inserts in
            let idle = try #require(store.idleThread)
            #expect(IdleScheduling.policy(of: idle.id) == IdleScheduling.policy)
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let row = generation(tenant: tenant.id, at: Date(), tokensIn: 1, tokensOut: 1, price: Self.price)
            try await store.backgroundTransaction { db in
                try await Self.waitUntil { idle.isLifted }
                try await SQLiteStore.insert([row], db)
            }
            #expect(inserts.all == [Insert(lane: .background, idleClass: false)])
            #expect(!idle.isLifted)
            #expect(IdleScheduling.policy(of: idle.id) == IdleScheduling.policy)
        }
    }

    /// What the lift is for: with every core busy, a background transaction that holds SQLite's write lock would
    /// get almost no CPU, and a write on the main connection waiting for the lock would fail after the busy
    /// timeout (5 s) with "database is locked". Lifted, the transaction ends and both writes land.
    @Test func aMainWriteDoesNotFailBehindAStarvedBackgroundTransaction() async throws {
        try await withObservedStore { store, _ in
            let tenant = try await store.createTenant(name: "acme", keyHash: "h", keyPrefix: "p")
            let rows = (1...500).map { generation(tenant: tenant.id, at: Date(), tokensIn: $0, tokensOut: 1, price: Self.price) }
            let spinners = CPUSpinners(count: ProcessInfo.processInfo.activeProcessorCount + 1)
            defer { spinners.stop() }
            let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
            let background = Task {
                try await store.backgroundTransaction { db in
                    try await SQLiteStore.insert(Array(rows[0..<1]), db)
                    // The write lock is held; from here on every core is busy.
                    lockedSignal.yield()
                    spinners.start()
                    for start in stride(from: 1, to: rows.count, by: 100) {
                        try await SQLiteStore.insert(Array(rows[start..<min(start + 100, rows.count)]), db)
                    }
                }
            }
            for await _ in locked { break }
            let second = try await store.createTenant(name: "second", keyHash: "h2", keyPrefix: "p2")
            try await background.value
            spinners.stop()
            #expect(second.name == "second")
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 600).count == 500)
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw WaitTimedOut() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct WaitTimedOut: Error {}
}

/// One usage row's insert: the connection and whether its thread was in the idle class.
struct Insert: Equatable, Sendable {
    enum Lane: Sendable { case main, background }
    var lane: Lane
    var idleClass: Bool
}

/// The inserts seen, in order.
final class Inserts: Sendable {
    private let seen = Mutex<[Insert]>([])
    var all: [Insert] { seen.withLock { $0 } }
    var lanes: [Insert.Lane] { all.map(\.lane) }
    func append(_ insert: Insert) { seen.withLock { $0.append(insert) } }
    func reset() { seen.withLock { $0 = [] } }
}

/// Threads of normal priority that keep every core busy between `start()` and `stop()`.
final class CPUSpinners: Sendable {
    private let count: Int
    private let state = Mutex<(started: Bool, stopped: Bool)>((false, false))
    private let running = Atomic<Bool>(false)

    init(count: Int) {
        self.count = count
    }

    func start() {
        let begin = state.withLock { state in
            defer { state.started = true }
            return !state.started && !state.stopped
        }
        guard begin else { return }
        running.store(true, ordering: .relaxed)
        for _ in 0..<count {
            Thread.detachNewThread { [self] in
                while running.load(ordering: .relaxed) {}
            }
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        running.store(false, ordering: .relaxed)
    }
}
