import AggregatorMessaging
import Foundation
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct RedisDedicatedConnectionTests {
    @Test func blockingReadMayTakeItsBlockTimeBeyondTheCommandTimeout() async throws {
        var configuration = try sharedRedisConfiguration()
        // A command timeout the handshake meets on a busy machine, well under the block.
        configuration.commandTimeout = .milliseconds(700)
        try await withClient(configuration) { client in
            try await client.withDedicatedConnection { connection in
                let started = ContinuousClock.now
                let reply1 = try await connection.send(blockingFor: .seconds(2), "BLPOP", RedisArgument(uniqueKey("empty")), "2")
                #expect(reply1 == .null)
                #expect(ContinuousClock.now - started >= .milliseconds(1900))
            }
        }
    }

    @Test func blockingMoveGetsWhatAnotherConnectionPushed() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let source = uniqueKey("source")
            let destination = uniqueKey("destination")
            try await client.withDedicatedConnection { connection in
                async let moved = connection.send(
                    blockingFor: .seconds(5), "BLMOVE", RedisArgument(source), RedisArgument(destination), "LEFT", "RIGHT", "5")
                try await client.send("RPUSH", RedisArgument(source), "job-9")
                let reply2 = try await moved
                #expect(reply2 == .bulkString(ByteBuffer(string: "job-9")))
            }
            let reply3 = try await client.send("LRANGE", RedisArgument(destination), 0, -1)
            #expect(reply3 == .array([.bulkString(ByteBuffer(string: "job-9"))]))
            try await client.send("DEL", RedisArgument(destination))
        }
    }

    @Test func streamConsumerGroupReadHasItsNestedShape() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let stream = uniqueKey("stream")
            let reply4 = try await client.send("XGROUP", "CREATE", RedisArgument(stream), "workers", "$", "MKSTREAM")
            #expect(reply4 == .simpleString("OK"))
            let id = try #require(try await client.send("XADD", RedisArgument(stream), "*", "job", "j-1").string)
            try await client.withDedicatedConnection { connection in
                let reply = try await connection.send(
                    blockingFor: .seconds(1), "XREADGROUP", "GROUP", "workers", "w-1", "COUNT", "10", "BLOCK", "1000", "STREAMS",
                    RedisArgument(stream), ">")
                let entry = RESPValue.array([
                    .bulkString(ByteBuffer(string: id)),
                    .array([.bulkString(ByteBuffer(string: "job")), .bulkString(ByteBuffer(string: "j-1"))]),
                ])
                #expect(reply == .array([.array([.bulkString(ByteBuffer(string: stream)), .array([entry])])]))
                // Nothing new: BLOCK runs out and the reply is a null array.
                let empty = try await connection.send(
                    blockingFor: .milliseconds(100), "XREADGROUP", "GROUP", "workers", "w-1", "BLOCK", "100", "STREAMS",
                    RedisArgument(stream), ">")
                #expect(empty == .null)
            }
            await #expect(throws: RedisError.self) {
                try await client.send("XGROUP", "CREATE", RedisArgument(stream), "workers", "$")
            }
            do {
                try await client.send("XGROUP", "CREATE", RedisArgument(stream), "workers", "$")
            } catch let error as RedisError {
                #expect(error.replyCode == "BUSYGROUP")
            }
            try await client.send("DEL", RedisArgument(stream))
        }
    }

    @Test func cancellingABlockedReadEndsItAndTheConnectionCarriesOn() async throws {
        try await withRedisServer { server in
            try await withClient(try RedisConfiguration(url: server.url)) { client in
                try await client.withDedicatedConnection { connection in
                    let blocked = Task { try await connection.send(blockingFor: nil, "BLPOP", "never", "0") }
                    try await waitUntil { try await blockedClients(client) == 1 }
                    blocked.cancel()
                    await #expect(throws: CancellationError.self) { try await blocked.value }
                    try await waitUntil { try await blockedClients(client) == 0 }
                    let reply5 = try await connection.send("PING")
                    #expect(reply5 == .simpleString("PONG"))
                }
            }
        }
    }

    @Test func reconnectsAfterItsConnectionIsKilled() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            try await client.withDedicatedConnection { connection in
                let first = try #require(try await connection.send("CLIENT", "ID").int)
                let reply6 = try await client.send("CLIENT", "KILL", "ID", RedisArgument(first))
                #expect(reply6 == .integer(1))
                // A command racing the close may fail (`connectionClosed`); the ones after it use a new connection.
                var second: Int64?
                try await waitUntil {
                    second = try? await connection.send("CLIENT", "ID").int
                    return second != nil
                }
                #expect(second != nil && second != first)
            }
        }
    }
}

private func blockedClients(_ client: RedisClient) async throws -> Int? {
    let info = try await client.send("INFO", "clients").string ?? ""
    return info.split(separator: "\r\n").first { $0.hasPrefix("blocked_clients:") }.flatMap { Int($0.dropFirst(16)) }
}

/// Polls a condition the test cannot be told about (a server's state), for at most 5 s.
func waitUntil(_ condition: () async throws -> Bool) async throws {
    for _ in 0..<250 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within 5 s")
}
