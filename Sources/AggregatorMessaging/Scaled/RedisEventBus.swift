import AggregatorCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The scaled-mode event bus: events reach this instance's subscribers at once and every other instance through a
/// capped Redis stream.
///
/// A stream rather than pub/sub, because a terminal job state or a cancel must not be lost: each instance reads the
/// stream from the last id it saw, so a reconnect (or Redis restarting with its data) resumes where it stopped. What
/// can still be missed — events written while Redis was unreachable, or lost with its data — is covered elsewhere:
/// `jobUpdated(id:)` starts with the job's current row, workers renew their leases (a cancel they missed stops them at
/// the next renewal), and the directory polls the store every second. Events that could not be written while Redis
/// was unreachable are kept (up to `outboxLimit`) and written once it answers again. `onReconnect` runs after the reader lost its
/// link, so the caller can re-read what events it may have missed would have said.
///
/// Run it as a `Service`: it writes published events in pipelined batches and reads everyone else's.
public final class RedisEventBus: EventBus, Service {
    private let client: RedisClient
    private let keys: RedisKeys
    private let local = InProcessEventBus()
    private let logger: Logger
    /// Tags this instance's entries, so its reader skips them (its subscribers had them at once).
    private let origin = UUID().uuidString.lowercased()
    /// Events published and not sent yet, and a wake-up for the writer.
    private let outbox = Mutex<[GatewayEvent]>([])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    static let outboxLimit = 100_000
    private let reconnectHandlers = Mutex<[@Sendable () async -> Void]>([])

    public init(client: RedisClient, keys: RedisKeys = RedisKeys(), logger: Logger) {
        self.client = client
        self.keys = keys
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func publish(_ event: GatewayEvent) {
        local.publish(event)
        outbox.withLock { pending in
            if pending.count >= Self.outboxLimit { pending.removeFirst(pending.count / 10) }
            pending.append(event)
        }
        wake.yield()
    }

    public func subscribe(bufferSize: Int) -> AsyncThrowingStream<GatewayEvent, any Error> {
        local.subscribe(bufferSize: bufferSize)
    }

    /// Called after the reader's link to Redis came back (events may have been missed meanwhile).
    public func onReconnect(_ handler: @escaping @Sendable () async -> Void) {
        reconnectHandlers.withLock { $0.append(handler) }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.writeLoop() }
            group.addTask { await self.readLoop() }
            try? await gracefulShutdown()
            // Let the writer send what was published before shutdown, then stop both loops.
            for _ in 0..<20 where !self.outbox.withLock({ $0.isEmpty }) {
                try? await Task.sleep(for: .milliseconds(50))
            }
            self.wake.finish()
            group.cancelAll()
        }
    }

    /// Sends published events in pipelined batches: whatever waits when the previous batch is done.
    func writeLoop() async {
        let encoder = JSONEncoder()
        for await _ in wakes {
            while true {
                let batch = outbox.withLock { pending -> [GatewayEvent] in
                    let batch = Array(pending.prefix(500))
                    pending.removeFirst(batch.count)
                    return batch
                }
                if batch.isEmpty { break }
                let commands = batch.compactMap { event -> RedisCommand? in
                    guard let body = try? encoder.encode(event) else { return nil }
                    return RedisCommand(
                        "XADD", .init(keys.events), "MAXLEN", "~", .init(RedisKeys.eventsMaxLength), "*", "o", .init(origin), "e",
                        .init(bytes: body))
                }
                do {
                    _ = try await client.pipeline(commands)
                } catch {
                    // Redis unreachable: the batch goes back to the front and is sent once Redis answers again, so
                    // other instances get these events late rather than never (up to the outbox's bound).
                    logger.warning("publishing events to Redis failed; will retry", metadata: ["events": "\(batch.count)", "error": "\(error)"])
                    outbox.withLock { pending in
                        pending.insert(contentsOf: batch, at: 0)
                        if pending.count > Self.outboxLimit { pending.removeFirst(pending.count - Self.outboxLimit) }
                    }
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
        }
    }

    /// Reads every other instance's events from the stream, from where it left off.
    func readLoop() async {
        let decoder = JSONDecoder()
        var lastID: String?
        var backoff = Duration.milliseconds(100)
        var lostLink = false
        while !Task.isCancelled {
            do {
                try await client.withDedicatedConnection { connection in
                    if lastID == nil {
                        // Start after the newest entry: what came before this instance started is not its business.
                        let newest = try await connection.send("XREVRANGE", .init(keys.events), "+", "-", "COUNT", 1)
                        lastID = newest.array?.first?.array?.first?.string ?? "0-0"
                    }
                    if lostLink {
                        lostLink = false
                        for handler in reconnectHandlers.withLock({ $0 }) { await handler() }
                    }
                    while !Task.isCancelled {
                        let reply = try await connection.send(
                            blockingFor: .seconds(5), "XREAD", "COUNT", 500, "BLOCK", 5000, "STREAMS", .init(keys.events), .init(lastID ?? "0-0"))
                        backoff = .milliseconds(100)
                        for entry in RedisStreamEntry.parse(reply) {
                            lastID = entry.id
                            guard entry.string("o") != origin, let body = entry.fields["e"] else { continue }
                            guard let event = try? decoder.decode(GatewayEvent.self, from: Data(body.readableBytesView)) else {
                                logger.warning("an unreadable event in the Redis stream was skipped", metadata: ["id": "\(entry.id)"])
                                continue
                            }
                            local.publish(event)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                lostLink = true
                logger.warning("reading events from Redis failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
