import AggregatorCore
import SQLiteNIO

extension SQLiteStore {
    public static var migrations: [Migration] { Migration.embeddedSQLite }

    /// golang-migrate's own table: one row, the current version and whether the last run failed half-way.
    func ensureMigrationTable() async throws {
        _ = try await unlockedRows("CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, dirty bool)")
        _ = try await unlockedRows("CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)")
    }

    /// The schema's version (0 for an empty database) and dirty flag.
    public func schemaVersion() async throws -> (version: Int64, dirty: Bool) {
        try await gate.run {
            try await self.ensureMigrationTable()
            let rows = try await self.unlockedRows("SELECT version, dirty FROM schema_migrations LIMIT 1")
            guard let row = rows.first else { return (0, false) }
            return (Int64(try row.int("version")), try row.bool("dirty"))
        }
    }

    @discardableResult
    public func migrate() async throws -> Int {
        try await migrate(to: Self.migrations.last?.version ?? 0)
    }

    /// Moves the schema up or down to `target`, one migration per transaction.
    @discardableResult
    public func migrate(to target: Int64) async throws -> Int {
        let (current, dirty) = try await schemaVersion()
        if dirty { throw MigrationError.dirty(version: current) }
        var applied = 0
        let all = Self.migrations
        if target >= current {
            for migration in all where migration.version > current && migration.version <= target {
                try await apply(migration.up, setting: migration.version)
                applied += 1
            }
        } else {
            for migration in all.reversed() where migration.version <= current && migration.version > target {
                let previous = all.last { $0.version < migration.version }?.version ?? 0
                try await apply(migration.down, setting: previous)
                applied += 1
            }
        }
        return applied
    }

    private func apply(_ sql: String, setting version: Int64) async throws {
        try await transaction { db in
            for statement in Migration.statements(sql) {
                _ = try await db.unlockedRows(statement)
            }
            _ = try await db.unlockedRows("DELETE FROM schema_migrations")
            if version > 0 {
                _ = try await db.unlockedRows(
                    "INSERT INTO schema_migrations (version, dirty) VALUES (?, 0)", [.integer(Int(version))])
            }
        }
    }

    /// Refuses to serve on a schema older (or newer) than the binary's.
    public func checkSchema() async throws {
        let (current, dirty) = try await schemaVersion()
        let expected = Self.migrations.last?.version ?? 0
        if dirty { throw MigrationError.dirty(version: current) }
        if current < expected { throw MigrationError.schemaTooOld(current: current, expected: expected) }
        if current > expected { throw MigrationError.unknownVersion(current) }
    }
}
