import AggregatorCore
import Foundation
import Logging
import NIOCore

/// The scaled-mode job queue: a Redis stream of job ids read by the consumer group `workers`.
///
/// It carries ids only; the job's row is the truth (SPEC §8). Entries are read with `NOACK`: a worker that dies right
/// after reading loses nothing but time, because a pending job that no worker took is dispatched again by the sweep
/// (and one that was taken is recovered by its lease), so no pending-entries list has to be kept, claimed or trimmed.
/// Each consumer loop holds a connection of its own for its blocking read. When the stream or its group is gone
/// (Redis flushed, or restarted empty), the group is made again and `lostData` tells the worker to dispatch every
/// pending job again at once.
public struct RedisJobQueue: JobQueue {
    let client: RedisClient
    let keys: RedisKeys
    /// This process's consumer name.
    let consumer: String
    let logger: Logger
    /// How long one blocking read waits before it asks again (a cancelled read ends at once anyway).
    var block: Duration = .seconds(2)

    public init(client: RedisClient, keys: RedisKeys = RedisKeys(), consumer: String, logger: Logger) {
        self.client = client
        self.keys = keys
        self.consumer = consumer
        self.logger = logger
    }

    public func enqueue(_ ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        let commands = ids.map { id in
            RedisCommand("XADD", .init(keys.jobs), "MAXLEN", "~", .init(RedisKeys.jobsMaxLength), "*", "id", .init(id.uuidString.lowercased()))
        }
        for reply in try await client.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError.reply(message) }
        }
    }

    public func consume(
        concurrency: Int, lostData: @escaping @Sendable () async -> Void, _ handle: @escaping @Sendable (UUID) async -> Void
    ) async throws {
        // Redis may be down at start: each reader makes the group when it finds it missing (NOGROUP).
        try? await ensureGroup()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask { await self.consumeLoop(lostData: lostData, handle) }
            }
        }
    }

    /// One reader: a blocking read for one id at a time, then the job, then the next read.
    func consumeLoop(lostData: @escaping @Sendable () async -> Void, _ handle: @escaping @Sendable (UUID) async -> Void) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await client.withDedicatedConnection { connection in
                    while !Task.isCancelled {
                        let reply = try await connection.send(
                            blockingFor: block, "XREADGROUP", "GROUP", .init(RedisKeys.workersGroup), .init(consumer), "COUNT", 1, "BLOCK",
                            .init(block.wholeMilliseconds), "NOACK", "STREAMS", .init(keys.jobs), ">")
                        backoff = .milliseconds(100)
                        for entry in RedisStreamEntry.parse(reply) {
                            guard let text = entry.string("id"), let id = UUID(uuidString: text) else { continue }
                            await handle(id)
                        }
                    }
                }
            } catch let error as RedisError where error.replyCode == "NOGROUP" {
                logger.warning("the job stream or its group is gone (Redis lost its data); making it again")
                try? await ensureGroup()
                await lostData()
            } catch {
                if Task.isCancelled { return }
                logger.warning("reading the job queue failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Creates the stream and its group when missing (`BUSYGROUP`: it exists).
    func ensureGroup() async throws {
        do {
            try await client.send("XGROUP", "CREATE", .init(keys.jobs), .init(RedisKeys.workersGroup), "0", "MKSTREAM")
        } catch let error as RedisError where error.replyCode == "BUSYGROUP" {
            return
        }
    }

    public func depth() async -> Int? {
        // Entries are never acknowledged (NOACK), so the group's lag is what waits.
        guard let groups = try? await client.send("XINFO", "GROUPS", .init(keys.jobs)).array else { return nil }
        for group in groups {
            guard let fields = group.array else { continue }
            var i = 0
            while i + 1 < fields.count {
                if fields[i].string == "lag" { return fields[i + 1].int.map { Int($0) } }
                i += 2
            }
        }
        return nil
    }
}
