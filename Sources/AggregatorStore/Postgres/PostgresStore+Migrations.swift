import AggregatorCore
import Foundation
import PostgresNIO

/// golang-migrate's protocol: one row in `schema_migrations (version bigint, dirty boolean)`, set dirty
/// before a migration runs and clean after, so a failure half-way is seen by both tools.
extension PostgresStore: MigratingStore {
    public static var migrations: [Migration] { Migration.embeddedPostgres }

    /// golang-migrate's "no version" (after migrating all the way down).
    static let nilVersion: Int64 = -1
    /// Held for the whole run so two `migrate` processes never interleave.
    static let advisoryLockKey: Int64 = 0x6167_6772_6567_6174  // "aggregat"

    public func schemaVersion() async throws -> (version: Int64, dirty: Bool) {
        let logger = self.logger
        return try await withConnection { connection in try await Self.schemaVersion(on: connection, logger: logger) }
    }

    static func schemaVersion(on connection: PostgresConnection, logger: Logger) async throws -> (version: Int64, dirty: Bool) {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", logger: logger)
            .collect().first?.makeRandomAccess().bool("present") ?? false
        guard exists else { return (0, false) }
        guard let row = try await connection.query("SELECT version, dirty FROM schema_migrations LIMIT 1", logger: logger).collect().first
        else { return (0, false) }
        let cells = row.makeRandomAccess()
        return (max(0, try cells.value("version", as: Int64.self)), try cells.bool("dirty"))
    }

    @discardableResult
    public func migrate() async throws -> Int {
        try await migrate(to: Self.latestVersion)
    }

    /// Moves the schema up or down to `target`, one migration per transaction.
    @discardableResult
    public func migrate(to target: Int64) async throws -> Int {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await Self.migrate(on: connection, to: target, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func migrate(on connection: PostgresConnection, to target: Int64, logger: Logger) async throws -> Int {
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)", logger: logger)
        let (current, dirty) = try await schemaVersion(on: connection, logger: logger)
        if dirty { throw MigrationError.dirty(version: current) }
        var applied = 0
        if target >= current {
            for migration in migrations where migration.version > current && migration.version <= target {
                try await apply(migration.up, reaching: migration.version, on: connection, logger: logger)
                applied += 1
            }
        } else {
            for migration in migrations.reversed() where migration.version <= current && migration.version > target {
                let previous = migrations.last { $0.version < migration.version }?.version ?? nilVersion
                try await apply(migration.down, reaching: previous, on: connection, logger: logger)
                applied += 1
            }
        }
        return applied
    }

    /// Marks `version` dirty, runs the migration's statements in one transaction, then marks it clean. When
    /// the statements fail the row stays dirty, as golang-migrate leaves it.
    private static func apply(_ sql: String, reaching version: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await setVersion(version, dirty: true, on: connection, logger: logger)
        try await connection.withTransaction(logger: logger) { connection in
            for statement in Migration.statements(sql) {
                // Migration text is part of the binary, never user input.
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
        try await setVersion(version, dirty: false, on: connection, logger: logger)
    }

    /// golang-migrate's `SetVersion`: empty the table, then one row unless it is the clean "no version".
    private static func setVersion(_ version: Int64, dirty: Bool, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("TRUNCATE schema_migrations", logger: logger)
            if version >= 0 || (version == nilVersion && dirty) {
                try await connection.query("INSERT INTO schema_migrations (version, dirty) VALUES (\(version), \(dirty))", logger: logger)
            }
        }
    }

    /// Refuses to serve on a schema older (or newer) than the binary's, or a dirty one.
    public func checkSchema() async throws {
        let (current, dirty) = try await schemaVersion()
        let expected = Self.latestVersion
        if dirty { throw MigrationError.dirty(version: current) }
        if current < expected { throw MigrationError.schemaTooOld(current: current, expected: expected) }
        if current > expected { throw MigrationError.unknownVersion(current) }
    }
}
