import AggregatorCore
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import AggregatorStore

/// The two stores every contract test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

struct MissingTestDatabase: Error, CustomStringConvertible {
    var description: String {
        "TEST_DATABASE_URL is not set: the PostgreSQL store tests need a server. Run `make test`, or "
            + "`eval \"$(scripts/postgres-test-server.sh start)\"` before `swift test`."
    }
}

/// Opens a fresh, migrated store of `backend` (SQLite: a temporary file; PostgreSQL: a new database on the
/// server of `TEST_DATABASE_URL`), runs `body`, then throws the store away.
func withStore<T>(_ backend: Backend, migrated: Bool = true, _ body: (any Store) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite").path
        let store = try await SQLiteStore.open(path: path, logger: testLogger)
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        do {
            if migrated { try await store.migrate() }
            let value = try await body(store)
            try await store.close()
            return value
        } catch {
            try? await store.close()
            throw error
        }
    case .postgres:
        return try await withPostgresStore(migrated: migrated) { try await body($0) }
    }
}

/// A new PostgreSQL database for one test, dropped afterwards.
func withPostgresStore<T>(migrated: Bool = true, _ body: (PostgresStore) async throws -> T) async throws -> T {
    guard let base = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !base.isEmpty else { throw MissingTestDatabase() }
    let name = "aggtest_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let admin = try PostgresStore.open(url: base, poolSize: 1, logger: testLogger)
    _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
    var components = URLComponents(string: base)!
    components.path = "/" + name
    let store = try PostgresStore.open(url: components.string!, poolSize: 4, logger: testLogger)
    do {
        if migrated { try await store.migrate() }
        let value = try await body(store)
        try await store.close()
        _ = try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name)"))
        try await admin.close()
        return value
    } catch {
        try? await store.close()
        _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name)"))
        try? await admin.close()
        throw error
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "store-tests")
    logger.logLevel = .critical
    return logger
}()

/// A fixed instant, whole milliseconds (both stores keep millisecond timestamps).
func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)!
}

func usd(_ text: String) -> Money { try! Money(parsing: text) }

/// A finished generation of `tenant` at `at`, priced with `price`.
func generation(
    tenant: UUID, at: Date, provider: String = "stub", model: String? = "echo", tokensIn: Int, tokensOut: Int, price: ModelPrice,
    input: String = "hello", withUsage: Bool = true
) -> Generation {
    let cost = price.cost(tokensIn: tokensIn, tokensOut: tokensOut)
    let job = Job(
        tenantID: tenant, status: .completed, input: input, result: "hi", provider: provider, model: model, tokensIn: tokensIn,
        tokensOut: tokensOut, cost: cost, createdAt: at, updatedAt: at, startedAt: at, finishedAt: at)
    let usage = UsageRecord(
        tenantID: tenant, jobID: job.id, provider: provider, model: model, tokensIn: tokensIn, tokensOut: tokensOut, cost: cost,
        unpriced: false, createdAt: at)
    return Generation(job: job, usage: withUsage ? usage : nil)
}
