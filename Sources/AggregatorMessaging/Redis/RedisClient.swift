import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The front door to Redis: commands over a small pool of pipelined connections, dedicated connections for blocking
/// reads, and subscriptions that survive reconnects.
///
/// Connections open on first use and reopen after they are lost (with backoff and jitter). Run the client as a
/// `Service` (or call `close()`) so its connections close at shutdown.
public final class RedisClient: Sendable, Service {
    public let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let slots: [RedisConnectionSlot]
    private let nextSlot = NIOLockedValueBox(0)

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.slots = (0..<max(1, configuration.poolSize)).map { _ in
            RedisConnectionSlot(configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger)
        }
    }

    /// Sends one command and returns its reply; an error reply is thrown as `RedisError.reply`.
    @discardableResult
    public func send(_ arguments: RedisArgument..., timeout: Duration? = nil) async throws -> RESPValue {
        try await send(RedisCommand(arguments), timeout: timeout)
    }

    @discardableResult
    public func send(_ command: RedisCommand, timeout: Duration? = nil) async throws -> RESPValue {
        try await pipeline([command], timeout: timeout)[0].throwingErrorReply()
    }

    /// Sends commands back to back on one connection in one write: nothing else runs between them there, so
    /// `MULTI … EXEC` is atomic. Returns every reply, error replies as `.error` values.
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) async throws -> [RESPValue] {
        if commands.isEmpty { return [] }
        let deadline = NIODeadline.now() + TimeAmount(timeout ?? configuration.commandTimeout)
        let slot = slots[nextSlot.withLockedValue { index in
            defer { index = (index + 1) % slots.count }
            return index
        }]
        return try await RedisConnection.send(commands, deadline: deadline, connectDeadline: deadline, slot: slot).1
    }

    /// Runs `body` with a connection of its own, for blocking commands (XREADGROUP … BLOCK, BLMOVE) that would hold
    /// up a pooled connection. The connection reconnects when lost and closes when `body` returns.
    public func withDedicatedConnection<Result: Sendable>(
        _ body: (RedisDedicatedConnection) async throws -> Result
    ) async throws -> Result {
        let connection = RedisDedicatedConnection(
            slot: RedisConnectionSlot(configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger),
            configuration: configuration)
        defer { connection.close() }
        return try await body(connection)
    }

    /// Waits for graceful shutdown (or cancellation), then closes the pooled connections.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Closes the pooled connections; commands sent afterwards fail with `RedisError.clientClosed`.
    public func close() {
        for slot in slots { slot.close() }
    }
}

/// A connection that belongs to one user, for blocking commands. It reconnects (with backoff) when lost. Cancelling
/// the task waiting on a command closes the connection, so a blocked read ends at once.
public final class RedisDedicatedConnection: Sendable {
    private let slot: RedisConnectionSlot
    private let configuration: RedisConfiguration

    init(slot: RedisConnectionSlot, configuration: RedisConfiguration) {
        self.slot = slot
        self.configuration = configuration
    }

    /// Sends a command that answers at once (within the command timeout, or `timeout`).
    @discardableResult
    public func send(_ arguments: RedisArgument..., timeout: Duration? = nil) async throws -> RESPValue {
        try await send(RedisCommand(arguments), deadline: .now() + TimeAmount(timeout ?? configuration.commandTimeout))
    }

    /// Sends a blocking command that may wait `blockingFor` before answering (the command's own BLOCK or timeout
    /// argument); it fails with `RedisError.timeout` after that plus the configuration's margin. Nil waits forever.
    @discardableResult
    public func send(blockingFor: Duration?, _ arguments: RedisArgument...) async throws -> RESPValue {
        let deadline = blockingFor.map { NIODeadline.now() + TimeAmount($0 + configuration.blockingTimeoutMargin) }
        return try await send(RedisCommand(arguments), deadline: deadline)
    }

    private func send(_ command: RedisCommand, deadline: NIODeadline?) async throws -> RESPValue {
        let connectDeadline = deadline ?? .now() + TimeAmount(configuration.connectTimeout)
        return try await withTaskCancellationHandler {
            try await RedisConnection.send([command], deadline: deadline, connectDeadline: connectDeadline, slot: slot).1[0]
                .throwingErrorReply()
        } onCancel: {
            // A blocked read would go on and hold up the next command: close the connection instead.
            slot.discardCurrent()
        }
    }

    func close() {
        slot.close()
    }
}

extension RESPValue {
    func throwingErrorReply() throws(RedisError) -> RESPValue {
        if case .error(let message) = self { throw .reply(message) }
        return self
    }
}
