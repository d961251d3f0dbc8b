import AggregatorMessaging
import Foundation
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct RedisSubscriptionTests {
    @Test func deliversChannelAndPatternMessages() async throws {
        try await withClient(try sharedRedisConfiguration()) { client in
            let channel = uniqueKey("channel")
            let prefix = uniqueKey("pattern")
            let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF]
            try await client.subscribe(channels: [channel], patterns: ["\(prefix).*"]) { subscription in
                let reply1 = try await client.send("PUBLISH", RedisArgument(channel), RedisArgument(bytes: payload))
                #expect(reply1 == .integer(1))
                let reply2 = try await client.send("PUBLISH", RedisArgument("\(prefix).job-7"), "done")
                #expect(reply2 == .integer(1))
                let reply3 = try await client.send("PUBLISH", RedisArgument("\(prefix)-other"), "ignored")
                #expect(reply3 == .integer(0))
                var events = subscription.makeAsyncIterator()
                let reply4 = try await events.next()
                #expect(reply4 == .message(channel: channel, payload: ByteBuffer(bytes: payload)))
                let patternMessage = try await events.next()
                #expect(patternMessage == .patternMessage(pattern: "\(prefix).*", channel: "\(prefix).job-7", payload: ByteBuffer(string: "done")))
            }
            // Leaving the scope unsubscribes (the connection closes).
            try await waitUntil { try await numberOfSubscribers(channel, client) == 0 }
        }
    }

    @Test func resubscribesAfterItsConnectionIsKilled() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.reconnectBackoff = RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            try await withClient(configuration) { client in
                try await client.subscribe(channels: ["agg:config"], patterns: ["agg:job:*"]) { subscription in
                    var events = subscription.makeAsyncIterator()
                    let reply6 = try await client.send("CLIENT", "KILL", "TYPE", "pubsub")
                    #expect(reply6 == .integer(1))
                    let reply7 = try await events.next()
                    #expect(reply7 == .resubscribed)
                    let reply8 = try await numberOfSubscribers("agg:config", client)
                    #expect(reply8 == 1)
                    let reply9 = try await client.send("PUBSUB", "NUMPAT")
                    #expect(reply9 == .integer(1))
                    try await client.send("PUBLISH", "agg:config", "routes")
                    try await client.send("PUBLISH", "agg:job:1", "cancel")
                    let reply10 = try await events.next()
                    #expect(reply10 == .message(channel: "agg:config", payload: ByteBuffer(string: "routes")))
                    let patternMessage = try await events.next()
                    #expect(patternMessage == .patternMessage(pattern: "agg:job:*", channel: "agg:job:1", payload: ByteBuffer(string: "cancel")))
                }
            }
        }
    }

    @Test func resubscribesAndCommandsWorkAfterTheServerRestarts() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.reconnectBackoff = RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            try await withClient(configuration) { client in
                try await client.subscribe(channels: ["agg:cancel"]) { subscription in
                    var events = subscription.makeAsyncIterator()
                    try await client.send("PUBLISH", "agg:cancel", "job-1")
                    let reply11 = try await events.next()
                    #expect(reply11 == .message(channel: "agg:cancel", payload: ByteBuffer(string: "job-1")))
                    try await server.kill()
                    try await server.start()
                    let reply12 = try await events.next()
                    #expect(reply12 == .resubscribed)
                    let reply13 = try await client.send("PUBLISH", "agg:cancel", "job-2", timeout: .seconds(5))
                    #expect(reply13 == .integer(1))
                    let reply14 = try await events.next()
                    #expect(reply14 == .message(channel: "agg:cancel", payload: ByteBuffer(string: "job-2")))
                }
            }
        }
    }

    @Test func silentSubscriberConnectionIsPingedThenReplaced() async throws {
        // Confirms the subscription on every connection, then never answers again (not even PING): a dead link.
        let server = try await ScriptedRedisServer { read in
            switch read {
            case 0: "+PONG\r\n"
            case 1: "*3\r\n$9\r\nsubscribe\r\n$10\r\nagg:config\r\n:1\r\n"
            default: nil
            }
        }
        var configuration = RedisConfiguration(host: "127.0.0.1", port: server.port)
        // Long enough that a machine busy with the whole suite still reads the SUBSCRIBE confirmation within it.
        configuration.subscriberPingInterval = .seconds(1)
        try await withClient(configuration) { client in
            try await client.subscribe(channels: ["agg:config"]) { subscription in
                var events = subscription.makeAsyncIterator()
                let reply15 = try await events.next()
                #expect(reply15 == .resubscribed)
                #expect(server.connections.withLockedValue { $0 } == 2)
            }
        }
        try await server.close()
    }

    @Test func subscriberTooSlowIsDropped() async throws {
        var configuration = try sharedRedisConfiguration()
        configuration.subscriberBufferSize = 1
        try await withClient(configuration) { client in
            let channel = uniqueKey("slow")
            try await client.subscribe(channels: [channel]) { subscription in
                for index in 1...3 {
                    try await client.send("PUBLISH", RedisArgument(channel), RedisArgument(index))
                }
                // The second message finds the buffer full: the subscriber is dropped and its connection closed.
                try await waitUntil { try await numberOfSubscribers(channel, client) == 0 }
                var events = subscription.makeAsyncIterator()
                let first = try await events.next()
                #expect(first == .message(channel: channel, payload: ByteBuffer(string: "1")))
                await #expect(throws: RedisError.subscriberTooSlow) { try await events.next() }
            }
        }
    }

    @Test func firstSubscriptionFailureIsThrown() async throws {
        let port = try await freePort()
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.commandTimeout = .milliseconds(300)
        await #expect(throws: RedisError.unreachable(endpoint: "127.0.0.1:\(port)", reason: "connection refused")) {
            try await withClient(configuration) { client in
                try await client.subscribe(channels: ["agg:config"]) { _ in Issue.record("subscribed to nothing") }
            }
        }
    }
}

func numberOfSubscribers(_ channel: String, _ client: RedisClient) async throws -> Int64? {
    try await client.send("PUBSUB", "NUMSUB", RedisArgument(channel)).array?.last?.int
}
