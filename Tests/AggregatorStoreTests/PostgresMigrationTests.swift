import AggregatorCore
import Foundation
import PostgresNIO
import Testing

@testable import AggregatorStore

/// golang-migrate compatibility of the PostgreSQL migrations.
@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    func migrationRows(_ store: PostgresStore) async throws -> [String] {
        try await store.query("SELECT version, dirty FROM schema_migrations").map {
            "\(try $0.value("version", as: Int64.self)),\(try $0.bool("dirty"))"
        }
    }

    func tables(_ store: PostgresStore) async throws -> [String] {
        try await store.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").map { try $0.string("tablename") }
    }

    @Test("up, down, up again; schema_migrations holds golang-migrate's one row (3, false)")
    func upDownUp() async throws {
        try await withPostgresStore(migrated: false) { store in
            await #expect(throws: MigrationError.schemaTooOld(current: 0, expected: 3)) { try await store.checkSchema() }
            #expect(try await store.migrate() == 3)
            #expect(try await migrationRows(store) == ["3,false"])
            #expect(
                try await tables(store) == ["jobs", "model_routes", "provider_pricing", "schema_migrations", "tenants", "usage", "usage_daily"])
            try await store.checkSchema()
            #expect(try await store.migrate() == 0)

            #expect(try await store.migrate(to: 0) == 3)
            #expect(try await migrationRows(store).isEmpty)
            #expect(try await tables(store) == ["schema_migrations"])
            #expect(try await store.schemaVersion() == (0, false))

            #expect(try await store.migrate() == 3)
            #expect(try await migrationRows(store) == ["3,false"])
            #expect(try await store.prices().count == 12)
            let columns = try await store.query(
                """
                SELECT column_name, data_type, is_nullable FROM information_schema.columns
                WHERE table_name = 'schema_migrations' ORDER BY ordinal_position
                """
            ).map { "\(try $0.string("column_name")) \(try $0.string("data_type")) \(try $0.string("is_nullable"))" }
            #expect(columns == ["version bigint NO", "dirty boolean NO"])
        }
    }

    @Test("a dirty schema is reported by migrate and by serve's check, never ignored")
    func dirty() async throws {
        try await withPostgresStore { store in
            _ = try await store.query("UPDATE schema_migrations SET dirty = TRUE")
            await #expect(throws: MigrationError.dirty(version: 3)) { try await store.checkSchema() }
            await #expect(throws: MigrationError.dirty(version: 3)) { try await store.migrate(to: 0) }
        }
    }

    @Test("a failing migration leaves the version dirty, as golang-migrate does")
    func failureLeavesDirty() async throws {
        try await withPostgresStore { store in
            // Something the first migration's down does not expect: a view depending on a table it drops (and not on
            // the columns the second one drops, so that one goes down cleanly first).
            _ = try await store.query("CREATE VIEW usage_view AS SELECT id, tokens_in FROM usage")
            await #expect(throws: (any Error).self) { try await store.migrate(to: 0) }
            #expect(try await migrationRows(store) == ["-1,true"])
            #expect(try await tables(store).contains("usage"))
        }
    }
}

@Suite("PostgreSQL connection")
struct PostgresConnectionTests {
    @Test(
        "bad DATABASE_URLs are refused without echoing them",
        arguments: [
            "mysql://u:secret-pw@h/db", "postgres://:secret-pw@h/db", "postgres://u:secret-pw@/db", "postgres://u:secret-pw@h/db?sslmode=nope",
            "postgres://u:secret-pw@h/db?pool_size=0",
        ])
    func badURL(url: String) throws {
        let error = try #require(throws: PostgresStoreError.self) { try PostgresStore.open(url: url, logger: testLogger) }
        #expect(!"\(error)".contains("secret-pw"))
    }

    @Test("an unreachable database fails fast as 503 unavailable, without the password in the error")
    func unreachable() async throws {
        let store = try PostgresStore.open(
            url: "postgres://u:secret-pw@127.0.0.1:1/db?sslmode=disable", leaseTimeout: .milliseconds(500), logger: testLogger)
        let started = ContinuousClock.now
        let error = try await #require(throws: GatewayError.self) { try await store.ping() }
        #expect(error.status == 503)
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(!"\(error)".contains("secret-pw") && !String(reflecting: error).contains("secret-pw"))
        try await store.close()
    }

    @Test("a wrong password is an error that does not contain it")
    func wrongPassword() async throws {
        let store = try Self.store { $0.password = "wrong-secret-pw" }
        let error = try #require(await #expect(throws: (any Error).self) { try await store.ping() })
        #expect(!"\(String(describing: error))".contains("wrong-secret-pw"))
        // The pool can only say "unreachable"; the operator is told what the server said.
        let explained = await PostgresStore.explained(error, by: store)
        guard case PostgresStoreError.refused("28P01", let message)? = explained as? PostgresStoreError else {
            Issue.record("expected a refusal with SQLSTATE 28P01, got \(explained)")
            return
        }
        #expect(message.contains("password authentication failed"))
        #expect(!"\(explained)".contains("wrong-secret-pw"))
        try await store.close()
    }

    @Test("an unknown database is named, an unreachable server stays unreachable")
    func refusalsAndUnreachableServers() async throws {
        let missing = try Self.store { $0.path = "/no_such_database" }
        let refusal = await missing.connectionRefusal()
        #expect(refusal.map { "\($0)" } == #"PostgreSQL refused the connection: database "no_such_database" does not exist (SQLSTATE 3D000)"#)
        try await missing.close()

        let nowhere = try Self.store(leaseTimeout: .seconds(1)) { $0.port = 1 }
        let error = try #require(await #expect(throws: (any Error).self) { try await nowhere.ping() })
        #expect(await PostgresStore.explained(error, by: nowhere) as? GatewayError == PostgresStoreError.unavailable)
        try await nowhere.close()
    }

    /// A store at the test server's URL with one part changed (password, database, port).
    static func store(leaseTimeout: Duration = .seconds(2), _ edit: (inout URLComponents) -> Void) throws -> PostgresStore {
        guard let base = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] else { throw MissingTestDatabase() }
        var components = try #require(URLComponents(string: base))
        edit(&components)
        return try PostgresStore.open(url: try #require(components.string), leaseTimeout: leaseTimeout, logger: testLogger)
    }
}
