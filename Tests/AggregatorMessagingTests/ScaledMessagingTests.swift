import AggregatorCore
import AggregatorMessaging
import Foundation
import Logging
import NIOCore
import Testing

/// Scaled mode's Redis-backed event bus, job queue and token log, between two "instances" (two of each on one Redis,
/// under a key prefix of the test's own).
@Suite struct ScaledMessagingTests {
    static let tenant = UUID()

    static func job(_ status: JobStatus) -> Job {
        Job(
            tenantID: tenant, status: status, input: "Привет, 🦊", result: status == .completed ? "done \"quoted\"\n" : nil, provider: "stub",
            model: "echo", tokensIn: 7, tokensOut: 3, cacheReadTokens: 2, cost: Money(units: 123_456_789_012), attempts: 2, failures: 1,
            createdAt: Date(timeIntervalSince1970: 1_764_633_600.123), updatedAt: Date(timeIntervalSince1970: 1_764_633_601.456),
            startedAt: Date(timeIntervalSince1970: 1_764_633_600.5))
    }

    @Test func eventsPublishedOnOneInstanceReachTheOtherExactlyAndInOrder() async throws {
        let configuration = try sharedRedisConfiguration()
        let keys = RedisKeys(prefix: uniqueKey("bus"))
        try await withClient(configuration) { client in
            let a = RedisEventBus(client: client, keys: keys, logger: Logger(label: "a"))
            let b = RedisEventBus(client: client, keys: keys, logger: Logger(label: "b"))
            let running = [Task { try await a.run() }, Task { try await b.run() }]
            defer { for task in running { task.cancel() } }
            var heard = b.subscribe(bufferSize: 100).makeAsyncIterator()
            var heardHere = a.subscribe(bufferSize: 100).makeAsyncIterator()
            // B's reader starts after the newest entry: give it a moment to be at the end of the stream.
            try await Task.sleep(for: .milliseconds(300))
            let usage = UsageRecord(
                tenantID: Self.tenant, jobID: UUID(), provider: "stub", model: nil, tokensIn: 1, tokensOut: 2, cost: Money(units: 1),
                unpriced: true, attempt: 3, createdAt: Date(timeIntervalSince1970: 1_764_633_602.789))
            let events: [GatewayEvent] = [.jobUpdated(Self.job(.processing)), .usageRecorded(usage), .configChanged, .jobUpdated(Self.job(.completed))]
            for event in events { a.publish(event) }
            for event in events {
                #expect(try await heard.next() == event)
                // The publishing instance's own subscribers have it at once, and only once.
                #expect(try await heardHere.next() == event)
            }
            a.publish(.configChanged)
            #expect(try await heardHere.next() == .configChanged)
            #expect(try await heard.next() == .configChanged)
        }
    }

    @Test func theQueueHandsEachIdToOneConsumerAndMakesItsGroupAgainAfterAFlush() async throws {
        let configuration = try sharedRedisConfiguration()
        let keys = RedisKeys(prefix: uniqueKey("queue"))
        try await withClient(configuration) { client in
            let queue = RedisJobQueue(client: client, keys: keys, consumer: "test", logger: Logger(label: "q"))
            let seen = Recorder<UUID>()
            let lost = Recorder<Int>()
            let consuming = Task {
                try await queue.consume(concurrency: 4, lostData: { await lost.add(1) }) { id in await seen.add(id) }
            }
            defer { consuming.cancel() }
            let ids = (0..<50).map { _ in UUID() }
            try await queue.enqueue(ids)
            try await waitUntil { await seen.count == 50 }
            #expect(Set(await seen.values) == Set(ids))
            #expect(await queue.depth() == 0)

            // The stream and its group vanish (FLUSHALL, or a restart without persistence): consumers make them again
            // and say so, and ids sent afterwards still arrive.
            try await client.send("DEL", .init(keys.jobs))
            try await waitUntil { await lost.count >= 1 }
            let after = UUID()
            try await queue.enqueue([after])
            try await waitUntil { await seen.values.contains(after) }
        }
    }

    @Test func aFollowerGetsATokenLogFromItsStartThenWhatComes() async throws {
        let configuration = try sharedRedisConfiguration()
        let keys = RedisKeys(prefix: uniqueKey("tokens"))
        try await withClient(configuration) { client in
            let log = RedisJobTokenLog(client: client, keys: keys, logger: Logger(label: "t"))
            let job = UUID()
            await log.append(jobID: job, attempt: 1, text: "one ")
            await log.append(jobID: job, attempt: 1, text: "two ")
            var follower = log.follow(jobID: job).makeAsyncIterator()
            #expect(try await follower.next() == .text("one ", attempt: 1))
            #expect(try await follower.next() == .text("two ", attempt: 1))
            await log.append(jobID: job, attempt: 1, text: "three")
            await log.end(jobID: job, attempt: 1)
            #expect(try await follower.next() == .text("three", attempt: 1))
            #expect(try await follower.next() == .ended(attempt: 1))
            let ttl = try await client.send("TTL", .init(keys.tokens(of: job))).int ?? -1
            #expect(ttl > 0 && ttl <= Int64(RedisKeys.tokensTTLAfterEnd))
        }
    }
}

/// Values collected from concurrent callbacks.
actor Recorder<Value: Sendable> {
    private(set) var values: [Value] = []
    func add(_ value: Value) { values.append(value) }
    var count: Int { values.count }
}
