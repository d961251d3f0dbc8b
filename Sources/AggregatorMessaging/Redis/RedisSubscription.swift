import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What a subscription delivers.
public enum RedisPubSubEvent: Sendable, Hashable {
    /// A message published to a subscribed channel.
    case message(channel: String, payload: ByteBuffer)
    /// A message published to a channel matching a subscribed pattern.
    case patternMessage(pattern: String, channel: String, payload: ByteBuffer)
    /// The connection was lost and is back, subscribed again to every channel and pattern. Messages published while
    /// it was down are lost (pub/sub is at most once): re-read whatever they would have announced.
    case resubscribed
}

/// The events of a `RedisClient.subscribe` call, in the order Redis sent them. It ends with an error when the
/// subscriber falls `subscriberBufferSize` events behind (`RedisError.subscriberTooSlow`).
public struct RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubEvent
    let events: AsyncThrowingStream<RedisPubSubEvent, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<RedisPubSubEvent, any Error>.AsyncIterator {
        events.makeAsyncIterator()
    }
}

extension RedisClient {
    /// Subscribes to `channels` and `patterns` on a connection of its own and runs `body` with the events. `body`
    /// starts once Redis has confirmed every subscription (a message published after that is delivered). A lost
    /// connection is reopened with backoff and every channel and pattern subscribed again, followed by a
    /// `.resubscribed` event. The connection closes when `body` returns.
    ///
    /// Throws at once if the first connection or subscription fails (unreachable server, refused password).
    public func subscribe<Result: Sendable>(
        channels: [String] = [],
        patterns: [String] = [],
        _ body: (RedisSubscription) async throws -> Result
    ) async throws -> Result {
        precondition(!channels.isEmpty || !patterns.isEmpty, "subscribe to at least one channel or pattern")
        let (events, continuation) = AsyncThrowingStream.makeStream(
            of: RedisPubSubEvent.self, throwing: (any Error).self,
            bufferingPolicy: .bufferingOldest(max(1, configuration.subscriberBufferSize)))
        let subscriber = RedisSubscriber(
            configuration: configuration, eventLoop: eventLoopGroup.next(), channels: channels, patterns: patterns,
            events: continuation, logger: logger)
        let ready = subscriber.eventLoop.makePromise(of: Void.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await subscriber.run(ready: ready) }
            do {
                try await ready.futureResult.get(before: nil, endpoint: configuration.endpoint)
                let result = try await body(RedisSubscription(events: events))
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// Keeps one subscriber connection subscribed until its task is cancelled.
private struct RedisSubscriber: Sendable {
    let configuration: RedisConfiguration
    let eventLoop: any EventLoop
    let channels: [String]
    let patterns: [String]
    let events: AsyncThrowingStream<RedisPubSubEvent, any Error>.Continuation
    let logger: Logger

    private enum Routed {
        case delivered
        case confirmed(String)
        case stop
    }

    func run(ready: EventLoopPromise<Void>) async {
        defer { events.finish() }
        var connection: RedisConnection
        var pushes: AsyncStream<RESPValue>
        do {
            let opened = try await open()
            connection = opened.0
            pushes = opened.1
        } catch {
            ready.fail(error)
            return
        }
        defer { connection.close() }
        ready.succeed()
        var failures = 0
        while true {
            for await push in pushes {
                if case .stop = route(push) { return }
            }
            if Task.isCancelled { return }
            logger.warning(
                "redis subscriber connection lost, reconnecting", metadata: ["redis.endpoint": "\(configuration.endpoint)"])
            while true {
                if failures > 0 {
                    let delay = configuration.reconnectBackoff.delay(attempt: failures - 1)
                    do { try await Task.sleep(for: delay) } catch { return }
                }
                do {
                    let opened = try await open()
                    connection.close()
                    connection = opened.0
                    pushes = opened.1
                    failures = 0
                    break
                } catch {
                    if Task.isCancelled { return }
                    failures += 1
                    logger.warning(
                        "redis subscriber reconnect failed",
                        metadata: ["redis.endpoint": "\(configuration.endpoint)", "error": "\(error)"])
                }
            }
            logger.info("redis subscriber resubscribed", metadata: ["redis.endpoint": "\(configuration.endpoint)"])
            if case .stop = deliver(.resubscribed) { return }
        }
    }

    /// Connects, subscribes, and waits for every confirmation (delivering messages that arrive meanwhile); returns
    /// the rest of the connection's pushes. Cancelling the task ends them and closes the connection.
    private func open() async throws -> (RedisConnection, AsyncStream<RESPValue>) {
        let (pushes, continuation) = AsyncStream.makeStream(of: RESPValue.self)
        let connecting = RedisConnection.connect(
            configuration: configuration, eventLoop: eventLoop, pushes: continuation, logger: logger)
        let connection: RedisConnection
        do {
            connection = try await connecting.get(before: nil, endpoint: configuration.endpoint)
        } catch {
            connecting.whenSuccess { $0.close() }
            throw error
        }
        continuation.onTermination = { _ in connection.close() }
        if !channels.isEmpty {
            connection.sendSubscriberCommand(RedisCommand(["SUBSCRIBE"] + channels.map { RedisArgument($0) }))
        }
        if !patterns.isEmpty {
            connection.sendSubscriberCommand(RedisCommand(["PSUBSCRIBE"] + patterns.map { RedisArgument($0) }))
        }
        let timedOut = NIOLockedValueBox(false)
        let timer = eventLoop.scheduleTask(in: TimeAmount(configuration.commandTimeout)) {
            timedOut.withLockedValue { $0 = true }
            connection.close()
        }
        defer { timer.cancel() }
        var waiting = Set(channels.map { "subscribe:\($0)" } + patterns.map { "psubscribe:\($0)" })
        for await push in pushes {
            if case .error(let message) = push {
                connection.close()
                throw RedisError.reply(message)
            }
            switch route(push) {
            case .confirmed(let key): waiting.remove(key)
            case .delivered: break
            case .stop:
                connection.close()
                throw CancellationError()
            }
            if waiting.isEmpty { return (connection, pushes) }
        }
        connection.close()
        try Task.checkCancellation()
        throw timedOut.withLockedValue { $0 } ? RedisError.timeout(endpoint: configuration.endpoint) : .connectionClosed
    }

    private func route(_ push: RESPValue) -> Routed {
        guard let parts = push.array, let kind = parts.first?.string else { return .delivered }
        switch (kind, parts.count) {
        case ("message", 3):
            guard let channel = parts[1].string, case .bulkString(let payload) = parts[2] else { return .delivered }
            return deliver(.message(channel: channel, payload: payload))
        case ("pmessage", 4):
            guard let pattern = parts[1].string, let channel = parts[2].string, case .bulkString(let payload) = parts[3]
            else { return .delivered }
            return deliver(.patternMessage(pattern: pattern, channel: channel, payload: payload))
        case ("subscribe", 3), ("psubscribe", 3):
            return .confirmed("\(kind):\(parts[1].string ?? "")")
        default:
            return .delivered  // pong, unsubscribe confirmations
        }
    }

    private func deliver(_ event: RedisPubSubEvent) -> Routed {
        switch events.yield(event) {
        case .enqueued:
            return .delivered
        case .dropped:
            logger.warning("redis subscriber too slow, dropped", metadata: ["redis.endpoint": "\(configuration.endpoint)"])
            events.finish(throwing: RedisError.subscriberTooSlow)
            return .stop
        case .terminated:
            return .stop
        @unknown default:
            return .stop
        }
    }
}
