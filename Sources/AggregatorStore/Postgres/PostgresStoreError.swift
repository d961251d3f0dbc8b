import AggregatorCore
import PostgresNIO

/// What went wrong talking to PostgreSQL. Descriptions never carry the connection URL or its password.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    /// `DATABASE_URL` could not be read; `problem` names the part, never the value.
    case invalidURL(problem: String)
    /// The server refused a statement (`sqlState` is the SQLSTATE code, e.g. `23505`).
    case server(sqlState: String, message: String)
    /// The server refused the connection itself (`28P01` a wrong password, `3D000` no such database, …).
    case refused(sqlState: String, message: String)
    /// A value in a row was not what the schema promises.
    case unexpectedValue(column: String)

    public var description: String {
        switch self {
        case .invalidURL(let problem): "DATABASE_URL is not a valid postgres:// URL: \(problem)"
        case .server(let sqlState, let message): "PostgreSQL error \(sqlState): \(message)"
        case .refused(let sqlState, let message): "PostgreSQL refused the connection: \(message) (SQLSTATE \(sqlState))"
        case .unexpectedValue(let column): "unexpected value in column \(column)"
        }
    }

    /// The store's answer when no connection can be had: the server layer turns it into a 503.
    static let unavailable = GatewayError.serviceUnavailable("The database is unreachable; try again shortly.")

    /// Maps postgres-nio's errors to ours: connection trouble becomes `unavailable`, a server error keeps
    /// its SQLSTATE and message (which never include the password).
    static func mapped(_ error: any Error) -> any Error {
        switch error {
        case let error as PostgresTransactionError:
            return mapped(error.closureError ?? error.commitError ?? error.beginError ?? unavailable)
        case let error as PSQLError:
            if error.code == .server {
                return PostgresStoreError.server(
                    sqlState: error.serverInfo?[.sqlState] ?? "?????", message: error.serverInfo?[.message] ?? "no message")
            }
            if error.code == .queryCancelled { return CancellationError() }
            return unavailable
        case is PostgresStoreError, is GatewayError, is MigrationError, is CancellationError, is PostgresDecodingError:
            return error
        default:
            // The pool's own errors (circuit breaker, shutdown) and lease timeouts.
            return unavailable
        }
    }
}
