import AggregatorCore

/// A store whose schema is versioned by the embedded migrations (golang-migrate's layout and
/// `schema_migrations` table), so `aggregator migrate` and `serve` treat SQLite and PostgreSQL alike.
public protocol MigratingStore: Store {
    /// The binary's migrations for this store's dialect, oldest first.
    static var migrations: [Migration] { get }
    /// The schema's version (0 for an empty database) and whether a migration failed half-way.
    func schemaVersion() async throws -> (version: Int64, dirty: Bool)
    /// Moves the schema up or down to `target`; returns how many migrations ran.
    @discardableResult
    func migrate(to target: Int64) async throws -> Int
    /// Throws `MigrationError` unless the schema is exactly the binary's latest version and clean.
    func checkSchema() async throws
}

extension MigratingStore {
    /// The newest version the binary knows.
    public static var latestVersion: Int64 { migrations.last?.version ?? 0 }

    /// The version `steps` migrations below `version` (0 when that goes past the first).
    public static func version(_ steps: Int, below version: Int64) -> Int64 {
        let versions = migrations.map(\.version).filter { $0 <= version }
        return versions.count > steps ? versions[versions.count - steps - 1] : 0
    }
}

extension SQLiteStore: MigratingStore {}
