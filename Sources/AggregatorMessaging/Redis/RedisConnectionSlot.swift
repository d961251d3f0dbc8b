import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A place for one connection that reconnects when needed: the first caller after the connection was lost opens a
/// new one (callers arriving meanwhile wait for that same attempt); a failed attempt delays the next by the
/// configuration's backoff, with jitter, and callers keep trying until their deadline. A refused password is not
/// retried for the caller: it is a configuration error, thrown at once.
final class RedisConnectionSlot: Sendable {
    private struct State {
        var connection: RedisConnection?
        var connecting: EventLoopFuture<RedisConnection>?
        var failures = 0
        var retryAt = NIODeadline.uptimeNanoseconds(0)
        var lastError: RedisError?
        var closed = false
    }

    private enum Step {
        case use(RedisConnection)
        case await(EventLoopFuture<RedisConnection>)
        case connect(EventLoopPromise<RedisConnection>)
        case sleep(until: NIODeadline, lastError: RedisError?)
        case fail(RedisError)
    }

    private let configuration: RedisConfiguration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// A live connection, connecting (and retrying with backoff) as needed until `deadline`.
    func connection(deadline: NIODeadline) async throws -> RedisConnection {
        while true {
            try Task.checkCancellation()
            let step = state.withLockedValue { state -> Step in
                if state.closed { return .fail(.clientClosed) }
                if let connection = state.connection {
                    if connection.isActive { return .use(connection) }
                    state.connection = nil
                }
                if let connecting = state.connecting { return .await(connecting) }
                let now = NIODeadline.now()
                if now < state.retryAt { return .sleep(until: state.retryAt, lastError: state.lastError) }
                let connecting = eventLoop.makePromise(of: RedisConnection.self)
                state.connecting = connecting.futureResult
                return .connect(connecting)
            }
            switch step {
            case .use(let connection):
                return connection
            case .fail(let error):
                throw error
            case .sleep(let until, let lastError):
                if until > deadline { throw lastError ?? .timeout(endpoint: configuration.endpoint) }
                try await Task.sleep(for: .nanoseconds(max(0, (until - .now()).nanoseconds)))
            case .connect(let promise):
                connect(into: promise)
                if let connection = try await attempt(promise.futureResult, deadline: deadline) { return connection }
            case .await(let connecting):
                if let connection = try await attempt(connecting, deadline: deadline) { return connection }
            }
        }
    }

    /// The connection an attempt made, or nil when it failed in a way worth another attempt before `deadline`.
    private func attempt(_ connecting: EventLoopFuture<RedisConnection>, deadline: NIODeadline) async throws -> RedisConnection? {
        do {
            return try await connecting.get(before: deadline, endpoint: configuration.endpoint)
        } catch let error as RedisError {
            switch error {
            case .authenticationFailed, .clientClosed:
                throw error
            case .timeout where NIODeadline.now() >= deadline:
                // Out of time while an attempt was under way: the previous attempt's failure says more.
                throw state.withLockedValue { $0.lastError } ?? error
            default:
                if NIODeadline.now() >= deadline { throw error }
                return nil
            }
        }
    }

    /// Closes the connection (if any); later callers get `clientClosed`.
    func close() {
        let connection = state.withLockedValue { state -> RedisConnection? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close()
    }

    /// Closes the current connection, if any; the next caller reconnects.
    func discardCurrent() {
        let connection = state.withLockedValue { state -> RedisConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close()
    }

    /// Closes the current connection, if it is `connection`; the next caller reconnects.
    func discard(_ connection: RedisConnection) {
        state.withLockedValue { state in
            if state.connection === connection { state.connection = nil }
        }
        connection.close()
    }

    private func connect(into promise: EventLoopPromise<RedisConnection>) {
        // State first, so a caller woken by the result already sees it.
        promise.futureResult.whenComplete { [self] result in
            let close = state.withLockedValue { state -> RedisConnection? in
                state.connecting = nil
                switch result {
                case .success(let connection):
                    state.failures = 0
                    state.lastError = nil
                    if state.closed { return connection }
                    state.connection = connection
                    return nil
                case .failure(let error):
                    let delay = configuration.reconnectBackoff.delay(attempt: state.failures)
                    state.failures += 1
                    state.retryAt = .now() + TimeAmount(delay)
                    state.lastError = error as? RedisError ?? .unreachable(endpoint: configuration.endpoint, reason: "\(error)")
                    return nil
                }
            }
            close?.close()
            if case .failure(let error) = result {
                logger.warning(
                    "redis connect failed",
                    metadata: ["redis.endpoint": "\(configuration.endpoint)", "error": "\(error)"])
            }
        }
        RedisConnection.connect(configuration: configuration, eventLoop: eventLoop, logger: logger).cascade(to: promise)
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or `RedisError.timeout` at `deadline`, or `CancellationError` when the task is cancelled.
    /// Leaving early does not cancel the work behind the future.
    func get(before deadline: NIODeadline?, endpoint: String) async throws -> Value {
        let race = eventLoop.makePromise(of: Value.self)
        cascade(to: race)
        let timer = deadline.map { deadline in
            eventLoop.scheduleTask(deadline: deadline) { race.fail(RedisError.timeout(endpoint: endpoint)) }
        }
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await race.futureResult.get()
        } onCancel: {
            race.fail(CancellationError())
        }
    }
}
