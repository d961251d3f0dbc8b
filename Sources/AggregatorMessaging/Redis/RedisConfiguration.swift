import Foundation

/// Where Redis is and how the client talks to it. Read once at start from `REDIS_URL`.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// The ACL user; nil is Redis' `default` user.
    public var username: String?
    public var password: String?
    public var database: Int

    /// Limit for the TCP connect and the handshake (AUTH, SELECT).
    public var connectTimeout: Duration = .seconds(5)
    /// Limit for a command's reply. A command that overruns it closes its connection.
    public var commandTimeout: Duration = .seconds(5)
    /// A blocking command (`BLOCK 2000`, `BLMOVE … 2`) may take its block time plus this margin.
    public var blockingTimeoutMargin: Duration = .seconds(5)
    /// Connections the command pool spreads commands over (each pipelines any number of commands).
    public var poolSize: Int = 4
    /// Delays between reconnect attempts.
    public var reconnectBackoff: RedisBackoff = RedisBackoff()
    /// A subscriber connection with nothing to read this long sends PING; without an answer for as long again, it
    /// is closed and reconnected.
    public var subscriberPingInterval: Duration = .seconds(15)
    /// Messages a subscriber may have unread before it is dropped (`RedisError.subscriberTooSlow`).
    public var subscriberBufferSize: Int = 10_000

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// `host:port`, for logs and errors.
    public var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension RedisConfiguration {
    /// Reads `redis://[[user]:password@]host[:port][/db]`. User and password may be percent-encoded.
    /// Errors name what is wrong and never repeat the password.
    public init(url: String) throws(RedisError) {
        let scheme = "redis://"
        guard url.lowercased().hasPrefix(scheme) else {
            if url.lowercased().hasPrefix("rediss://") {
                throw .invalidURL("TLS (rediss://) is not supported; use redis://")
            }
            throw .invalidURL("must start with redis://, as in redis://:password@host:6379/0")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if rest.contains("?") || rest.contains("#") {
            throw .invalidURL("query parameters and fragments are not supported")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw .invalidURL("credentials must be written user:password@ or :password@")
            }
            let user = String(userinfo[..<colon])
            guard let decodedUser = user.removingPercentEncoding,
                let decodedPassword = String(userinfo[userinfo.index(after: colon)...]).removingPercentEncoding
            else {
                throw .invalidURL("the user or password has a malformed percent-encoding")
            }
            username = decodedUser.isEmpty ? nil : decodedUser
            password = decodedPassword
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw .invalidURL("the database after the slash must be a number (0, 1, …), got '\(path)'")
                }
                database = number
            }
        }
        var host: Substring
        var port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in the IPv6 host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            rest = rest[colon...]
        } else {
            host = rest
            rest = ""
        }
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()), (1...65535).contains(number) else {
                throw .invalidURL("the port must be a number from 1 to 65535, got '\(rest.dropFirst())'")
            }
            port = number
        }
        guard !host.isEmpty else { throw .invalidURL("the host is missing") }
        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The URL with the password masked.
    public var description: String {
        var credentials = ""
        if password != nil { credentials = "\(username ?? ""):***@" }
        return "redis://\(credentials)\(endpoint)/\(database)"
    }
}

/// Exponential backoff with jitter: attempt n waits a random time between half and all of
/// `min(maximum, initial · 2ⁿ)`, so clients that lost a server together do not return together.
public struct RedisBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before retry `attempt` (0 for the first retry); `jitter` in 0...1 picks where in the window.
    public func delay(attempt: Int, jitter: Double = Double.random(in: 0...1)) -> Duration {
        let ceiling = min(maximum, initial * Double(1 << min(max(attempt, 0), 30)))
        return ceiling * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }
}
