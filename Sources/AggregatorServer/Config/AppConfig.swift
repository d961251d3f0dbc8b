import AggregatorCore
import AggregatorGraphQL
import Foundation
import Logging

/// Where state lives.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)
}

/// Everything the environment (and `.env`) says, read once at start (SPEC §3).
public struct AppConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var store = StoreLocation.sqlite(path: "./data/aggregator.sqlite")
    public var redisURL: String?
    public var adminAPIKey: String?
    public var openAI: RemoteProviderConfig?
    public var anthropic: RemoteProviderConfig?
    public var ollamaURL: String?
    public var enableStub = true
    public var enablePlayground = true
    /// A folder to serve the dashboard from instead of the copy in the binary (`DASHBOARD_DIR`, for editing).
    public var dashboardDirectory: String?
    public var routes: [ModelRoute] = []
    public var upstreamTimeout: Duration = .seconds(120)
    /// Scaled mode: how long a limits reservation outlives the instance holding it (renewed every third of it).
    public var limitReservationLifetime: Duration = .seconds(60)
    public var maxRequestBytes = 10_485_760
    /// `/v1/messages` streams from a translated provider send a `ping` after this long without an event
    /// (`MESSAGES_PING_MS`), as Anthropic does, so proxies and clients do not take a slow model for a dead one.
    public var messagesPingInterval: Duration = .seconds(10)
    /// Bounds on each GraphQL document (`GRAPHQL_MAX_*`).
    public var graphQLLimits = QueryLimits()
    public var storePrompts = true
    /// `GET /metrics` and the recording behind it (`METRICS_ENABLED`).
    public var metricsEnabled = true
    /// `WORKER_CONCURRENCY`, `JOB_MAX_ATTEMPTS`, `JOB_LEASE_SECONDS`, `JOB_RETRY_BASE_MS`, `JOB_SHUTDOWN_GRACE_SECONDS`.
    public var jobs = JobSettings()
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text

    public struct RemoteProviderConfig: Sendable, Equatable {
        public var apiKey: String
        public var baseURL: String

        public init(apiKey: String, baseURL: String) {
            self.apiKey = apiKey
            self.baseURL = baseURL
        }
    }

    public enum LogFormat: String, Sendable { case text, json }

    public init() {}

    /// A variable's value was malformed: the message names it.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var variable: String
        public var problem: String
        public var description: String { "\(variable): \(problem)" }
    }

    /// Reads the configuration from the process environment and, when present, `./.env` (the real
    /// environment wins).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment, dotEnvPath: String = ".env") throws -> AppConfig {
        var merged = (try? DotEnv.parse(String(contentsOfFile: dotEnvPath, encoding: .utf8))) ?? [:]
        merged.merge(environment) { _, real in real }
        return try AppConfig(variables: merged)
    }

    public init(variables env: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func bool(_ name: String, default d: Bool) throws -> Bool {
            guard let v = value(name) else { return d }
            switch v.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw Error(variable: name, problem: "expected true or false, got '\(v)'")
            }
        }
        func int(_ name: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
            guard let v = value(name) else { return d }
            guard let i = Int(v), range.contains(i) else {
                throw Error(variable: name, problem: "expected a whole number in \(range.lowerBound)…\(range.upperBound), got '\(v)'")
            }
            return i
        }
        func url(_ name: String, schemes: [String]) throws -> String? {
            guard let v = value(name) else { return nil }
            guard let u = URL(string: v), let scheme = u.scheme, schemes.contains(scheme), u.host?.isEmpty == false else {
                throw Error(variable: name, problem: "expected a \(schemes.joined(separator: " or ")) URL, got '\(v)'")
            }
            return v.hasSuffix("/") ? String(v.dropLast()) : v
        }

        if let h = value("API_HOST") { host = h }
        port = try int("API_PORT", default: 8080, range: 0...65535)
        if let db = value("DATABASE_URL") {
            if db.hasPrefix("sqlite://") {
                let path = String(db.dropFirst("sqlite://".count))
                guard !path.isEmpty else { throw Error(variable: "DATABASE_URL", problem: "sqlite:// needs a file path") }
                store = .sqlite(path: path)
            } else if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") {
                store = .postgres(url: db)
            } else {
                throw Error(variable: "DATABASE_URL", problem: "expected sqlite://PATH or postgres://user:pass@host:port/db")
            }
        }
        redisURL = try url("REDIS_URL", schemes: ["redis"])
        adminAPIKey = value("ADMIN_API_KEY")
        if let key = value("OPENAI_API_KEY") {
            openAI = .init(apiKey: key, baseURL: try url("OPENAI_BASE_URL", schemes: ["http", "https"]) ?? "https://api.openai.com/v1")
        }
        if let key = value("ANTHROPIC_API_KEY") {
            anthropic = .init(apiKey: key, baseURL: try url("ANTHROPIC_BASE_URL", schemes: ["http", "https"]) ?? "https://api.anthropic.com")
        }
        ollamaURL = try url("OLLAMA_URL", schemes: ["http", "https"])
        enableStub = try bool("ENABLE_STUB_PROVIDER", default: openAI == nil && anthropic == nil && ollamaURL == nil)
        enablePlayground = try bool("ENABLE_PLAYGROUND", default: true)
        if let dir = value("DASHBOARD_DIR") {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isFolder), isFolder.boolValue else {
                throw Error(variable: "DASHBOARD_DIR", problem: "'\(dir)' is not a folder")
            }
            dashboardDirectory = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        }
        if let r = value("MODEL_ROUTES") {
            do {
                routes = try ModelRoute.parseList(r)
            } catch {
                throw Error(variable: "MODEL_ROUTES", problem: "\(error)")
            }
        }
        upstreamTimeout = .seconds(try int("UPSTREAM_TIMEOUT_SECONDS", default: 120, range: 1...86_400))
        limitReservationLifetime = .seconds(try int("LIMIT_RESERVATION_SECONDS", default: 60, range: 3...86_400))
        maxRequestBytes = try int("MAX_REQUEST_BYTES", default: 10_485_760, range: 1...1_073_741_824)
        messagesPingInterval = .milliseconds(try int("MESSAGES_PING_MS", default: 10_000, range: 10...3_600_000))
        storePrompts = try bool("STORE_PROMPTS", default: true)
        metricsEnabled = try bool("METRICS_ENABLED", default: true)
        jobs.concurrency = try int("WORKER_CONCURRENCY", default: 8, range: 1...1024)
        jobs.maxAttempts = try int("JOB_MAX_ATTEMPTS", default: 3, range: 1...100)
        jobs.lease = JobLease(duration: .seconds(try int("JOB_LEASE_SECONDS", default: 30, range: 1...86_400)))
        jobs.retryBase = .milliseconds(try int("JOB_RETRY_BASE_MS", default: 1000, range: 1...3_600_000))
        jobs.shutdownGrace = .seconds(try int("JOB_SHUTDOWN_GRACE_SECONDS", default: 20, range: 0...3_600))
        let defaults = QueryLimits()
        graphQLLimits = QueryLimits(
            maxDepth: try int("GRAPHQL_MAX_DEPTH", default: defaults.maxDepth, range: 1...100),
            maxComplexity: try int("GRAPHQL_MAX_COMPLEXITY", default: defaults.maxComplexity, range: 1...10_000_000),
            maxQueryBytes: try int("GRAPHQL_MAX_QUERY_BYTES", default: defaults.maxQueryBytes, range: 100...1_000_000),
            maxTokens: try int("GRAPHQL_MAX_TOKENS", default: defaults.maxTokens, range: 10...100_000),
            maxValueDepth: try int("GRAPHQL_MAX_VALUE_DEPTH", default: defaults.maxValueDepth, range: 1...32),
            maxAliases: try int("GRAPHQL_MAX_ALIASES", default: defaults.maxAliases, range: 0...10_000),
            maxFragments: try int("GRAPHQL_MAX_FRAGMENTS", default: defaults.maxFragments, range: 0...1_000),
            maxFragmentSpreads: try int("GRAPHQL_MAX_FRAGMENT_SPREADS", default: defaults.maxFragmentSpreads, range: 0...10_000))
        if let l = value("LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: l.lowercased()) else {
                throw Error(variable: "LOG_LEVEL", problem: "expected trace, debug, info, notice, warning, error or critical, got '\(l)'")
            }
            logLevel = level
        }
        if let f = value("LOG_FORMAT") {
            guard let format = LogFormat(rawValue: f.lowercased()) else {
                throw Error(variable: "LOG_FORMAT", problem: "expected text or json, got '\(f)'")
            }
            logFormat = format
        }
    }
}

/// `.env` files: `NAME=value` lines, `#` comments, optional `export `, optional quotes.
enum DotEnv {
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            out[name] = value
        }
        return out
    }
}
