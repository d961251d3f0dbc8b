import Foundation
import PostgresNIO

/// `postgres://user:pass@host:port/db?sslmode=disable|prefer|require&pool_size=N`, read into a client
/// configuration (`pool_size` overrides the pool size the caller asks for).
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var sslMode: SSLMode
    var poolSize: Int?

    enum SSLMode: String, Sendable {
        case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw PostgresStoreError.invalidURL(problem: "expected postgres://user:pass@host:port/db") }
        guard let host = components.host, !host.isEmpty else { throw PostgresStoreError.invalidURL(problem: "missing host") }
        guard let user = components.percentEncodedUser, let username = user.removingPercentEncoding, !username.isEmpty else {
            throw PostgresStoreError.invalidURL(problem: "missing user name")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw PostgresStoreError.invalidURL(problem: "sslmode must be disable, prefer, require, verify-ca or verify-full")
        }
        self.sslMode = sslMode
        if let text = components.queryItems?.first(where: { $0.name == "pool_size" })?.value {
            guard let size = Int(text), size > 0 else { throw PostgresStoreError.invalidURL(problem: "pool_size must be a positive integer") }
            self.poolSize = size
        }
    }

    /// The TLS context `sslmode` asks for (nil: no TLS), and whether TLS is required.
    private var tlsSettings: (context: TLSConfiguration?, required: Bool) {
        switch sslMode {
        case .disable:
            return (nil, false)
        case .allow, .prefer:
            var context = TLSConfiguration.makeClientConfiguration()
            context.certificateVerification = .none
            return (context, false)
        case .require:
            // libpq's `require` encrypts without checking the certificate.
            var context = TLSConfiguration.makeClientConfiguration()
            context.certificateVerification = .none
            return (context, true)
        case .verifyCA:
            var context = TLSConfiguration.makeClientConfiguration()
            context.certificateVerification = .noHostnameVerification
            return (context, true)
        case .verifyFull:
            return (.makeClientConfiguration(), true)
        }
    }

    /// One connection's configuration, for diagnosing what the pool cannot report.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsSettings {
        case (nil, _): tls = .disable
        case (let context?, true): tls = .require(try NIOSSLContext(configuration: context))
        case (let context?, false): tls = .prefer(try NIOSSLContext(configuration: context))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    func configuration(poolSize: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch tlsSettings {
        case (nil, _): tls = .disable
        case (let context?, true): tls = .require(context)
        case (let context?, false): tls = .prefer(context)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = self.poolSize ?? max(1, poolSize)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
