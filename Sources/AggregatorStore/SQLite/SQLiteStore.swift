import AggregatorCore
import Foundation
import Logging
import SQLiteNIO

/// The embedded store: one SQLite file in WAL mode, one connection, every operation serialized.
public final class SQLiteStore: Store {
    let connection: SQLiteConnection
    let gate = SerialGate()
    public let path: String

    private init(connection: SQLiteConnection, path: String) {
        self.connection = connection
        self.path = path
    }

    /// Opens (creating when needed) the database file and its folder.
    public static func open(path: String, logger: Logger) async throws -> SQLiteStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let store = SQLiteStore(connection: connection, path: path)
        _ = try await store.rows("PRAGMA journal_mode = WAL")
        _ = try await store.rows("PRAGMA busy_timeout = 5000")
        _ = try await store.rows("PRAGMA foreign_keys = ON")
        _ = try await store.rows("PRAGMA synchronous = NORMAL")
        // Statement journals (multi-row inserts that may be rolled back part-way) stay in memory, not temp files.
        _ = try await store.rows("PRAGMA temp_store = MEMORY")
        return store
    }

    public func close() async throws {
        try await connection.close()
    }

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    // MARK: Query helpers

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
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteStore) async throws -> T) async throws -> T {
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
}
