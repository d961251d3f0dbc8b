import AggregatorMessaging
import Foundation
import Logging
import NIOCore
import Testing

/// The client against a real redis-server: the shared one `make test` starts, or one of the test's own.
@Suite struct RedisClientTests {
    @Test func commandsRoundTripBinaryValuesAndNulls() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let key = uniqueKey("binary")
            let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF] + Array("job".utf8)
            let reply1 = try await client.send("SET", RedisArgument(key), RedisArgument(bytes: value))
            #expect(reply1 == .simpleString("OK"))
            let reply2 = try await client.send("GET", RedisArgument(key))
            #expect(reply2 == .bulkString(ByteBuffer(bytes: value)))
            let reply3 = try await client.send("INCRBY", RedisArgument(key + ":n"), 41)
            #expect(reply3 == .integer(41))
            let reply4 = try await client.send("GET", RedisArgument(key + ":missing"))
            #expect(reply4 == .null)
            let reply5 = try await client.send("DEL", RedisArgument(key), RedisArgument(key + ":n"))
            #expect(reply5 == .integer(2))
        }
    }

    @Test func largeValueRoundTrips() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let key = uniqueKey("large")
            var generator = SplitMix64(seed: 7)
            let value = (0..<(2 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try await client.send("SET", RedisArgument(key), RedisArgument(bytes: value))
            let reply = try await client.send("GET", RedisArgument(key))
            #expect(reply == .bulkString(ByteBuffer(bytes: value)))
            try await client.send("DEL", RedisArgument(key))
        }
    }

    @Test func errorReplyIsThrownWithItsCode() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let key = uniqueKey("wrongtype")
            try await client.send("LPUSH", RedisArgument(key), "a")
            do {
                try await client.send("GET", RedisArgument(key))
                Issue.record("GET on a list succeeded")
            } catch let error as RedisError {
                #expect(error == .reply("WRONGTYPE Operation against a key holding the wrong kind of value"))
                #expect(error.replyCode == "WRONGTYPE")
            }
            // The connection is still good after an error reply.
            let reply6 = try await client.send("LLEN", RedisArgument(key))
            #expect(reply6 == .integer(1))
            try await client.send("DEL", RedisArgument(key))
        }
    }

    @Test func pipelinedTransactionIsAtomic() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let key = uniqueKey("multi")
            let replies = try await client.pipeline([
                RedisCommand("MULTI"),
                RedisCommand("INCR", RedisArgument(key)),
                RedisCommand("INCR", RedisArgument(key)),
                RedisCommand("EXEC"),
                RedisCommand("DEL", RedisArgument(key)),
            ])
            #expect(
                replies == [
                    .simpleString("OK"), .simpleString("QUEUED"), .simpleString("QUEUED"),
                    .array([.integer(1), .integer(2)]), .integer(1),
                ])
        }
    }

    @Test func thousandPipelinedCommandsGetTheirOwnReplies() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let key = uniqueKey("pipelined")
            let replies = try await client.pipeline((0..<1000).map { _ in RedisCommand("INCR", RedisArgument(key)) })
            #expect(replies == (1...1000).map { RESPValue.integer(Int64($0)) })
            try await client.send("DEL", RedisArgument(key))
        }
    }

    @Test func poolSpreadsConcurrentCommandsOverItsConnections() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.poolSize = 3
            try await withClient(configuration) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<500 {
                        group.addTask { try await client.send("INCR", "counter") }
                    }
                    try await group.waitForAll()
                }
                let reply7 = try await client.send("GET", "counter")
                #expect(reply7.int == 500)
                let info = try await client.send("INFO", "clients").string ?? ""
                #expect(info.contains("connected_clients:3\r\n"), "\(info)")
            }
        }
    }

    @Test func wrongPasswordIsAClearErrorAndNeverLogged() async throws {
        try await withRedisServer(["--requirepass", "right-horse-battery"]) { server in
            let logs = LogCapture()
            var configuration = try RedisConfiguration(url: "redis://:wrong-staple-9@127.0.0.1:\(server.port)/0")
            configuration.commandTimeout = .seconds(10)
            let started = ContinuousClock.now
            do {
                try await withClient(configuration, logger: logs.logger) { client in try await client.send("PING") }
                Issue.record("a wrong password was accepted")
            } catch let error as RedisError {
                #expect(
                    error
                        == .authenticationFailed(
                            endpoint: server.endpoint, reply: "WRONGPASS invalid username-password pair or user is disabled."))
                #expect(!"\(error)".contains("wrong-staple-9"))
                #expect("\(error)".hasPrefix("Redis at \(server.endpoint) refused the credentials of REDIS_URL"))
            }
            // Not retried until the command's time is up: a wrong password will not become right.
            #expect(ContinuousClock.now - started < .seconds(5))

            configuration.password = nil
            do {
                try await withClient(configuration, logger: logs.logger) { client in try await client.send("PING") }
                Issue.record("no password was accepted")
            } catch let error as RedisError {
                #expect(error == .authenticationFailed(endpoint: server.endpoint, reply: "NOAUTH Authentication required."))
            }

            configuration.password = "right-horse-battery"
            try await withClient(configuration, logger: logs.logger) { client in
                let reply8 = try await client.send("PING")
                #expect(reply8 == .simpleString("PONG"))
                let reply9 = try await client.send("ACL", "SETUSER", "alice", "on", ">alice-pass-77", "~*", "+@all")
                #expect(reply9 == .simpleString("OK"))
            }
            // An ACL user: redis://alice:password@host
            let alice = try RedisConfiguration(url: "redis://alice:alice-pass-77@127.0.0.1:\(server.port)/3")
            try await withClient(alice, logger: logs.logger) { client in
                let reply10 = try await client.send("ACL", "WHOAMI")
                #expect(reply10 == .bulkString(ByteBuffer(string: "alice")))
                let reply11 = try await client.send("CLIENT", "INFO")
                #expect(reply11.string?.contains(" db=3 ") == true)
            }
            let lines = logs.lines.withLockedValue { $0 }
            #expect(!lines.isEmpty)
            for secret in ["wrong-staple-9", "right-horse-battery", "alice-pass-77"] {
                #expect(!lines.contains { $0.contains(secret) }, "a log line holds a password")
            }
        }
    }

    @Test func unreachableServerIsAClearError() async throws {
        let port = try await freePort()
        var configuration = try RedisConfiguration(url: "redis://:hunter2@127.0.0.1:\(port)")
        configuration.commandTimeout = .milliseconds(500)
        configuration.reconnectBackoff = RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(100))
        do {
            try await withClient(configuration) { client in try await client.send("PING") }
            Issue.record("a command reached a server that is not there")
        } catch let error as RedisError {
            #expect(error == .unreachable(endpoint: "127.0.0.1:\(port)", reason: "connection refused"))
            #expect("\(error)" == "Redis at 127.0.0.1:\(port) is unreachable: connection refused")
        }
    }

    @Test func commandTimeoutClosesTheConnectionAndTheNextCommandReconnects() async throws {
        // Answers the handshake's PING on every connection, then nothing.
        let server = try await ScriptedRedisServer { read in read == 0 ? "+PONG\r\n" : nil }
        var configuration = RedisConfiguration(host: "127.0.0.1", port: server.port)
        configuration.poolSize = 1
        try await withClient(configuration) { client in
            await #expect(throws: RedisError.timeout(endpoint: server.endpoint)) {
                try await client.send("GET", "a", timeout: .milliseconds(200))
            }
            // A second chance long enough to reconnect on a machine busy with every other test.
            await #expect(throws: RedisError.timeout(endpoint: server.endpoint)) {
                try await client.send("GET", "b", timeout: .seconds(1))
            }
        }
        // The server counts a connection when its loop gets to the accept, which may come after the client gave up.
        for _ in 0..<500 where server.connections.withLockedValue({ $0 }) < 2 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.connections.withLockedValue { $0 } == 2)
        try await server.close()
    }

    @Test func commandTimeoutAgainstAPausedServer() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.poolSize = 1
            try await withClient(configuration) { client in
                // The server sleeps a second before it answers anything.
                await #expect(throws: RedisError.timeout(endpoint: server.endpoint)) {
                    try await client.pipeline([RedisCommand("DEBUG", "SLEEP", "1"), RedisCommand("PING")], timeout: .milliseconds(300))
                }
                // A new connection, answered once the server is awake.
                let reply12 = try await client.send("PING")
                #expect(reply12 == .simpleString("PONG"))
            }
        }
    }

    @Test func garbageFromTheServerIsAProtocolErrorAndClosesTheConnection() async throws {
        let server = try await ScriptedRedisServer { read in read == 0 ? "+PONG\r\n" : "hello\r\n" }
        var configuration = RedisConfiguration(host: "127.0.0.1", port: server.port)
        configuration.poolSize = 1
        try await withClient(configuration) { client in
            await #expect(throws: RedisError.protocolError("Protocol error, got \"h\" as reply type byte")) {
                try await client.send("GET", "a")
            }
            await #expect(throws: RedisError.protocolError("Protocol error, got \"h\" as reply type byte")) {
                try await client.send("GET", "a")
            }
        }
        #expect(server.connections.withLockedValue { $0 } == 2)
        try await server.close()
    }

    @Test func commandsWorkAgainAfterTheServerRestarts() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.poolSize = 2
            configuration.reconnectBackoff = RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            try await withClient(configuration) { client in
                try await client.send("SET", "before", "1")
                try await server.kill()
                await #expect(throws: RedisError.self) { try await client.send("GET", "before", timeout: .milliseconds(300)) }
                try await server.start()
                // A fresh server without persistence: the key is gone, the connection is new.
                let reply13 = try await client.send("GET", "before", timeout: .seconds(5))
                #expect(reply13 == .null)
                let reply14 = try await client.send("SET", "after", "2")
                #expect(reply14 == .simpleString("OK"))
                let reply15 = try await client.send("GET", "after")
                #expect(reply15 == .bulkString(ByteBuffer(string: "2")))
            }
        }
    }
}
