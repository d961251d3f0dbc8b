import AggregatorCore
import Foundation
import Logging
import NIOPosix
import SQLiteNIO

/// The embedded store: one SQLite file in WAL mode. Every operation runs on one connection, serialized, except
/// metering writes that can wait (`WriteUrgency.background`): those go through a second connection whose only
/// thread is in Linux's idle scheduling class, so they use CPU the requests leave over and never delay one.
///
/// Measured with `make bench` at one connection: the 100 ms metering flush competing with requests for the two
/// cores was what made the gateway's p99 1.2–1.8 ms; with the flush on an idle-class thread, 0.6–0.8 ms. Readers
/// never wait for the background writer (WAL); a writer on the main connection waits for it through SQLite's busy
/// timeout.
///
/// An idle-class thread gets almost no CPU on a saturated machine, and it holds SQLite's write lock while it
/// waits: the first version wrote 500-row batches there and, at 64 connections, the metering backlog reached
/// 13,000 rows while a starved transaction held the lock for seconds. So a background write goes to the idle
/// thread only while the machine had idle CPU since the last write (`spareCPU`), in transactions of at most
/// `rowsPerInsert` rows, each decided afresh; otherwise it runs on the main connection like any other. A
/// transaction that still runs there after `liftAfter` is lifted to the normal class (see `IdleWriterThread`).
public final class SQLiteStore: Store {
    let main: SQLiteLane
    let background: SQLiteLane
    /// The background connection's one thread.
    private let backgroundPool: NIOThreadPool
    /// The background connection's thread in the idle class; nil where the idle class is not available (not
    /// Linux) or a thread could not be lifted out of it again: background writes then go to the main connection.
    let idleThread: IdleWriterThread?
    /// Whether the machine had CPU to spare since it was last asked (see `HostCPU`).
    let spareCPU: @Sendable () -> Bool
    public let path: String

    private init(
        main: SQLiteLane, background: SQLiteLane, backgroundPool: NIOThreadPool, idleThread: IdleWriterThread?,
        spareCPU: @escaping @Sendable () -> Bool, path: String
    ) {
        self.main = main
        self.background = background
        self.backgroundPool = backgroundPool
        self.idleThread = idleThread
        self.spareCPU = spareCPU
        self.path = path
    }

    /// Opens (creating when needed) the database file and its folder.
    public static func open(path: String, logger: Logger) async throws -> SQLiteStore {
        try await open(path: path, logger: logger, spareCPU: HostCPU().hadSpareCPU)
    }

    /// How long a background transaction may run at idle priority. One of `rowsPerInsert` rows takes 1–2 ms of
    /// CPU (release build); with CPU to spare it ends well within this.
    static let liftAfter = Duration.milliseconds(10)

    static func open(
        path: String, logger: Logger, spareCPU: @escaping @Sendable () -> Bool, liftAfter: Duration = liftAfter
    ) async throws -> SQLiteStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let main = SQLiteLane(connection: try await SQLiteConnection.open(storage: .file(path: path), logger: logger))
        _ = try await main.rows("PRAGMA journal_mode = WAL")
        try await main.configure()
        var pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        do {
            let idleThread = try await pool.runIfActive { IdleWriterThread.enterCurrent(liftAfter: liftAfter) }
            if idleThread == nil {
                logger.debug("metering writes stay on the main connection: a thread could not enter and leave the idle scheduling class")
                if try await pool.runIfActive({ IdleScheduling.policy() == IdleScheduling.policy }) {
                    // In the idle class without a way out: the background connection gets a thread of normal priority.
                    try await pool.shutdownGracefully()
                    pool = NIOThreadPool(numberOfThreads: 1)
                    pool.start()
                }
            }
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()
            ).get()
            let background = SQLiteLane(connection: connection)
            try await background.configure()
            return SQLiteStore(
                main: main, background: background, backgroundPool: pool, idleThread: idleThread, spareCPU: spareCPU, path: path)
        } catch {
            try? await main.connection.close()
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    /// Closes both connections and the background thread, all of them even when one fails (the first failure
    /// is thrown).
    public func close() async throws {
        var failure: (any Error)?
        do { try await background.connection.close() } catch { failure = error }
        do { try await backgroundPool.shutdownGracefully() } catch { failure = failure ?? error }
        do { try await main.connection.close() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    // MARK: Query helpers (on the main connection)

    func rows(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await main.rows(sql, binds)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteLane) async throws -> T) async throws -> T {
        try await main.transaction(body)
    }

    /// For several statements under one hold of the main gate.
    var gate: SerialGate { main.gate }

    func unlockedRows(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await main.unlockedRows(sql, binds)
    }
}

/// One connection and the gate that serializes its use.
final class SQLiteLane: Sendable {
    let connection: SQLiteConnection
    let gate = SerialGate()

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Settings of each connection (WAL mode is the file's, set once).
    func configure() async throws {
        _ = try await rows("PRAGMA busy_timeout = 5000")
        _ = try await rows("PRAGMA foreign_keys = ON")
        _ = try await rows("PRAGMA synchronous = NORMAL")
        // Statement journals (multi-row inserts that may be rolled back part-way) stay in memory, not temp files.
        _ = try await rows("PRAGMA temp_store = MEMORY")
    }

    /// Runs one statement under the gate and returns its rows.
    func rows(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await gate.run { try await self.unlockedRows(sql, binds) }
    }

    func unlockedRows(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await connection.query(sql, binds)
    }

    /// Runs `body` inside one transaction under the gate.
    ///
    /// The transaction runs to its COMMIT or ROLLBACK even when the caller is cancelled (graceful shutdown cancels
    /// the usage writer): a statement that threw `CancellationError` between BEGIN and the end used to leave the
    /// one connection inside a transaction, its ROLLBACK cancelled too, and every later BEGIN failed with "cannot
    /// start a transaction within a transaction" — the final usage flush then lost its rows.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteLane) async throws -> T) async throws -> T {
        try await Task {
            try await self.gate.run {
                _ = try await self.unlockedRows("BEGIN IMMEDIATE")
                do {
                    let value = try await body(self)
                    _ = try await self.unlockedRows("COMMIT")
                    return value
                } catch {
                    _ = try? await self.unlockedRows("ROLLBACK")
                    throw error
                }
            }
        }.value
    }
}

// MARK: Value conversions

extension Date {
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}

extension SQLiteData {
    static func text(_ uuid: UUID) -> SQLiteData { .text(uuid.lowercasedText) }
    static func date(_ date: Date) -> SQLiteData { .integer(Int(date.millis)) }
    static func optionalDate(_ date: Date?) -> SQLiteData { date.map { .date($0) } ?? .null }
    static func optional(_ text: String?) -> SQLiteData { text.map { .text($0) } ?? .null }
    static func money(_ money: Money) -> SQLiteData { .integer(Int(money.units)) }
    static func optionalMoney(_ money: Money?) -> SQLiteData { money.map { .money($0) } ?? .null }
}

struct RowError: Error, CustomStringConvertible {
    var column: String
    var description: String { "unexpected value in column \(column)" }
}

extension SQLiteRow {
    func string(_ name: String) throws -> String {
        guard let s = column(name)?.string else { throw RowError(column: name) }
        return s
    }

    func optionalString(_ name: String) -> String? {
        guard let value = column(name), value != .null else { return nil }
        return value.string
    }

    func int(_ name: String) throws -> Int {
        guard let i = column(name)?.integer else { throw RowError(column: name) }
        return Int(i)
    }

    func optionalInt(_ name: String) -> Int? {
        guard let value = column(name), value != .null else { return nil }
        return value.integer
    }

    func bool(_ name: String) throws -> Bool { try int(name) != 0 }

    func uuid(_ name: String) throws -> UUID {
        guard let u = UUID(uuidString: try string(name)) else { throw RowError(column: name) }
        return u
    }

    func date(_ name: String) throws -> Date { Date(millis: Int64(try int(name))) }

    func optionalDate(_ name: String) -> Date? {
        guard let value = column(name), value != .null, let i = value.integer else { return nil }
        return Date(millis: Int64(i))
    }

    func money(_ name: String) throws -> Money { Money(units: Int64(try int(name))) }

    func optionalMoney(_ name: String) -> Money? { column(name)?.integer.map { Money(units: Int64($0)) } }
}
