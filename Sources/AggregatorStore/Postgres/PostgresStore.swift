import AggregatorCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The scaled store: PostgreSQL through postgres-nio's `PostgresClient` (a connection pool), shared by every
/// `serve` and `worker` process.
///
/// The client runs from `open` until `close` (the server queries the store while it assembles itself, before
/// its service group starts). No operation waits for a connection longer than `leaseTimeout`: when the
/// database is unreachable it fails with a 503-shaped `GatewayError` instead of hanging.
public final class PostgresStore: Store, Sendable {
    let client: PostgresClient
    let address: PostgresURL
    let logger: Logger
    public let leaseTimeout: Duration
    private let runner = Mutex<Task<Void, Never>?>(nil)

    private init(client: PostgresClient, address: PostgresURL, leaseTimeout: Duration, logger: Logger) {
        self.client = client
        self.address = address
        self.leaseTimeout = leaseTimeout
        self.logger = logger
    }

    /// Reads `postgres://user:pass@host:port/db?sslmode=disable` and starts a client with at most `poolSize`
    /// connections. Connections are made on demand, so this succeeds while the database is down.
    public static func open(url: String, poolSize: Int = 10, leaseTimeout: Duration = .seconds(5), logger: Logger) throws -> PostgresStore {
        let address = try PostgresURL(url)
        let client = PostgresClient(configuration: address.configuration(poolSize: poolSize), backgroundLogger: logger)
        let store = PostgresStore(client: client, address: address, leaseTimeout: leaseTimeout, logger: logger)
        store.runner.withLock { $0 = Task { await client.run() } }
        return store
    }

    /// Stops the client (its connections close); later calls fail as unavailable.
    public func close() async throws {
        guard let task = runner.withLock({ task in defer { task = nil }; return task }) else { return }
        task.cancel()
        await task.value
    }

    public func ping() async throws {
        _ = try await query("SELECT 1")
    }

    /// Why no connection can be made, in the server's words (a wrong password, an unknown database or user):
    /// the pool only logs its failed connection attempts, so a waiting operation can only say "unreachable".
    /// Tries one connection of its own; nil when that works, or fails before the server answers (then the
    /// server is unreachable indeed).
    public func connectionRefusal() async -> PostgresStoreError? {
        do {
            let connection = try await PostgresConnection.connect(configuration: try address.connectionConfiguration(), id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch let error as PSQLError where error.code == .server {
            return .refused(sqlState: error.serverInfo?[.sqlState] ?? "?????", message: error.serverInfo?[.message] ?? "no message")
        } catch {
            return nil
        }
    }

    /// `error` as an operator should read it: "unreachable" becomes the server's refusal when there is one.
    public static func explained(_ error: any Error, by store: any Store) async -> any Error {
        guard let postgres = store as? PostgresStore, (error as? GatewayError)?.status == 503,
            let refusal = await postgres.connectionRefusal()
        else { return error }
        return refusal
    }

    // MARK: Query helpers

    /// Runs one statement on a pooled connection and returns its rows.
    func query(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
        }
    }

    /// Runs `body` inside one transaction (BEGIN … COMMIT, or ROLLBACK when it throws).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// Leases a connection for `body`, giving up with `unavailable` when none comes within `leaseTimeout`.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let leased = LeaseFlag()
        let client = self.client
        let timeout = leaseTimeout
        do {
            return try await withThrowingTaskGroup(of: Optional<T>.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.value.store(true, ordering: .relaxed)
                        return Optional.some(try await body(connection))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if !leased.value.load(ordering: .relaxed) { throw PostgresStoreError.unavailable }
                    return nil
                }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                throw CancellationError()
            }
        } catch {
            throw PostgresStoreError.mapped(error)
        }
    }
}

/// Set once a connection was leased: from then on the lease timeout no longer applies.
private final class LeaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}
