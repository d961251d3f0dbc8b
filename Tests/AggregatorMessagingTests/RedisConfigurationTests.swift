import AggregatorMessaging
import Testing

@Suite struct RedisConfigurationTests {
    struct Parsed: Equatable, CustomStringConvertible {
        var host: String
        var port: Int
        var username: String?
        var password: String?
        var database: Int
        var description: String { "\(host) \(port) \(username ?? "-") \(password == nil ? "-" : "(password)") \(database)" }
    }

    static let valid: [(String, Parsed)] = [
        ("redis://localhost:6379", Parsed(host: "localhost", port: 6379, database: 0)),
        ("redis://redis", Parsed(host: "redis", port: 6379, database: 0)),
        ("redis://127.0.0.1:6380/2", Parsed(host: "127.0.0.1", port: 6380, database: 2)),
        ("redis://:secret@127.0.0.1:6380/", Parsed(host: "127.0.0.1", port: 6380, password: "secret", database: 0)),
        (
            "redis://alice:s%40cr%3At@redis.internal:7000/15",
            Parsed(host: "redis.internal", port: 7000, username: "alice", password: "s@cr:t", database: 15)
        ),
        ("redis://:p@ss@host:1/3", Parsed(host: "host", port: 1, password: "p@ss", database: 3)),
        ("REDIS://[::1]:6379/1", Parsed(host: "::1", port: 6379, database: 1)),
    ]

    @Test(arguments: valid.indices)
    func parses(_ index: Int) throws {
        let (url, expected) = Self.valid[index]
        let configuration = try RedisConfiguration(url: url)
        let parsed = Parsed(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database)
        #expect(parsed == expected, "\(url)")
    }

    static let invalid: [(String, String)] = [
        ("http://localhost:6379", "REDIS_URL: must start with redis://, as in redis://:password@host:6379/0"),
        ("rediss://:hunter2@localhost:6379", "REDIS_URL: TLS (rediss://) is not supported; use redis://"),
        ("redis://:hunter2@localhost:port", "REDIS_URL: the port must be a number from 1 to 65535, got 'port'"),
        ("redis://:hunter2@localhost:70000", "REDIS_URL: the port must be a number from 1 to 65535, got '70000'"),
        ("redis://:hunter2@localhost:6379/db1", "REDIS_URL: the database after the slash must be a number (0, 1, …), got 'db1'"),
        ("redis://hunter2@localhost:6379", "REDIS_URL: credentials must be written user:password@ or :password@"),
        ("redis://:hunter2@:6379", "REDIS_URL: the host is missing"),
        ("redis://:hunter2@localhost:6379/0?timeout=1", "REDIS_URL: query parameters and fragments are not supported"),
    ]

    @Test(arguments: invalid.indices)
    func refusesWithoutRepeatingThePassword(_ index: Int) {
        let (url, message) = Self.invalid[index]
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect("\(error)" == message)
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test func descriptionMasksThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:hunter2@redis.internal:7000/15")
        #expect("\(configuration)" == "redis://alice:***@redis.internal:7000/15")
        #expect(configuration.endpoint == "redis.internal:7000")
        #expect("\(try RedisConfiguration(url: "redis://[::1]:6379"))" == "redis://[::1]:6379/0")
    }

    @Test func backoffGrowsCapsAndJitters() {
        let backoff = RedisBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        #expect(backoff.delay(attempt: 0, jitter: 1) == .milliseconds(100))
        #expect(backoff.delay(attempt: 0, jitter: 0) == .milliseconds(50))
        #expect(backoff.delay(attempt: 3, jitter: 1) == .milliseconds(800))
        #expect(backoff.delay(attempt: 3, jitter: 0.5) == .milliseconds(600))
        #expect(backoff.delay(attempt: 6, jitter: 1) == .seconds(5))
        #expect(backoff.delay(attempt: 60, jitter: 0) == .milliseconds(2500))
        let random = (0..<200).map { _ in backoff.delay(attempt: 2) }
        #expect(random.allSatisfy { $0 >= .milliseconds(200) && $0 <= .milliseconds(400) })
        #expect(Set(random).count > 1)
    }
}
