/// What the Redis client throws. No case ever carries the password (the endpoint is `host:port` only).
public enum RedisError: Error, Sendable, Hashable {
    /// `REDIS_URL` could not be read; the text names what is wrong, never the password.
    case invalidURL(String)
    /// No TCP connection to the server (refused, unresolvable, connect timed out).
    case unreachable(endpoint: String, reason: String)
    /// The server refused the credentials of `REDIS_URL` (WRONGPASS), or wants some and got none (NOAUTH).
    case authenticationFailed(endpoint: String, reply: String)
    /// An error reply to a command: `ERR …`, `WRONGTYPE …`, `NOGROUP …` (see `replyCode`).
    case reply(String)
    /// No reply within the command's time limit; the connection was closed (its replies can no longer be matched).
    case timeout(endpoint: String)
    /// The connection closed before the reply arrived.
    case connectionClosed
    /// The server sent bytes that are not RESP2; the connection was closed.
    case protocolError(String)
    /// A subscriber read its messages too slowly and its buffer filled up; it was dropped.
    case subscriberTooSlow
    /// The client was closed.
    case clientClosed

    /// The first word of an error reply (`NOGROUP`, `BUSYGROUP`, `NOSCRIPT`, `LOADING`, `READONLY`, …).
    public var replyCode: String? {
        guard case .reply(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }
}

extension RedisError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidURL(let reason):
            "REDIS_URL: \(reason)"
        case .unreachable(let endpoint, let reason):
            "Redis at \(endpoint) is unreachable: \(reason)"
        case .authenticationFailed(let endpoint, let reply):
            "Redis at \(endpoint) refused the credentials of REDIS_URL (wrong user or password, or none given): \(reply)"
        case .reply(let message):
            "Redis error reply: \(message)"
        case .timeout(let endpoint):
            "Redis at \(endpoint) did not answer in time; the connection was closed"
        case .connectionClosed:
            "the connection to Redis closed before the reply arrived"
        case .protocolError(let reason):
            "Redis protocol error: \(reason); the connection was closed"
        case .subscriberTooSlow:
            "a Redis subscriber read its messages too slowly and was dropped"
        case .clientClosed:
            "the Redis client is closed"
        }
    }
}
