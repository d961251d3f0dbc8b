import Foundation
import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis, after its handshake (AUTH, SELECT). Commands may be sent from any task and are
/// pipelined; replies come back in order. Nothing here blocks: hiredis parses on the channel's event loop.
final class RedisConnection: Sendable {
    let channel: any Channel
    let endpoint: String

    private init(channel: any Channel, endpoint: String) {
        self.channel = channel
        self.endpoint = endpoint
    }

    var isActive: Bool { channel.isActive }
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Connects and authenticates. A subscriber connection passes `pushes`: it receives every reply once the
    /// connection has sent its first subscriber command.
    static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        pushes: AsyncStream<RESPValue>.Continuation? = nil,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let endpoint = configuration.endpoint
        let pingInterval = TimeAmount(configuration.subscriberPingInterval)
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if pushes != nil {
                        try sync.addHandler(IdleStateHandler(readTimeout: pingInterval))
                    }
                    try sync.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try sync.addHandler(RedisCommandHandler(endpoint: endpoint, pushes: pushes))
                }
            }
        let connected = bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                throw RedisError.unreachable(endpoint: endpoint, reason: describeConnectError(error))
            }
            .map { RedisConnection(channel: $0, endpoint: endpoint) }
        return connected.flatMap { connection in
            connection.handshake(configuration: configuration).map { connection }
                .flatMapError { error in
                    connection.close()
                    // Closed before the handshake went out: the server hung up at once.
                    return eventLoop.makeFailedFuture(error as? RedisError ?? .connectionClosed)
                }
        }
        .map { connection in
            logger.debug("redis connected", metadata: ["redis.endpoint": "\(endpoint)"])
            return connection
        }
    }

    /// AUTH and SELECT, pipelined; with neither, a PING, so a server that wants a password says so now (NOAUTH)
    /// rather than at the first command.
    private func handshake(configuration: RedisConfiguration) -> EventLoopFuture<Void> {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", RedisArgument(username), RedisArgument(password)))
            } else {
                commands.append(RedisCommand("AUTH", RedisArgument(password)))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", RedisArgument(configuration.database)))
        }
        if commands.isEmpty {
            commands.append(RedisCommand("PING"))
        }
        let deadline = NIODeadline.now() + TimeAmount(configuration.connectTimeout)
        let endpoint = self.endpoint
        return send(commands, deadline: deadline).flatMapThrowing { replies in
            for reply in replies {
                guard case .error(let message) = reply else { continue }
                if message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") || message.hasPrefix("NOPERM")
                    || (message.hasPrefix("ERR") && message.contains("AUTH"))
                    || message.hasPrefix("ERR invalid password") || message.hasPrefix("ERR invalid username")
                {
                    throw RedisError.authenticationFailed(endpoint: endpoint, reply: message)
                }
                throw RedisError.reply(message)
            }
        }
    }

    /// Sends commands on a live connection from `slot`; a connection found closed when writing (the server or the
    /// network dropped it since its last use) is replaced once. Fails with `CancellationError` if the task is
    /// cancelled while waiting: the commands may still run.
    static func send(
        _ commands: [RedisCommand], deadline: NIODeadline?, connectDeadline: NIODeadline, slot: RedisConnectionSlot
    ) async throws -> (RedisConnection, [RESPValue]) {
        var attempts = 0
        while true {
            let connection = try await slot.connection(deadline: connectDeadline)
            do {
                let replies = try await connection.send(commands, deadline: deadline)
                    .get(before: nil, endpoint: connection.endpoint)
                return (connection, replies)
            } catch is CommandNotSent {
                slot.discard(connection)
                attempts += 1
                if attempts == 2 { throw RedisError.connectionClosed }
            }
        }
    }

    /// Sends commands in one write (so nothing interleaves them: MULTI … EXEC is safe) and returns their replies,
    /// error replies included as `.error` values.
    func send(_ commands: [RedisCommand], deadline: NIODeadline?) -> EventLoopFuture<[RESPValue]> {
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { command.encode(into: &bytes) }
        let promises = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            // Closed before the write: the handler never saw these commands (or refused them), nothing was sent.
            if error is CommandNotSent || (error as? ChannelError) == .ioOnClosedChannel {
                promises.forEach { $0.fail(CommandNotSent()) }
            }
        }
        channel.writeAndFlush(RedisOutbound.commands(bytes, promises, deadline: deadline), promise: written)
        return EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: eventLoop)
    }

    /// Sends a subscriber command (SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PING); its replies arrive as pushes.
    func sendSubscriberCommand(_ command: RedisCommand) {
        var bytes = channel.allocator.buffer(capacity: 64)
        command.encode(into: &bytes)
        channel.writeAndFlush(RedisOutbound.subscriberCommand(bytes), promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// "connection refused", "connect timed out", "cannot resolve host": short, and never the URL.
private func describeConnectError(_ error: any Error) -> String {
    if let error = error as? NIOConnectionError {
        if let failure = error.connectionErrors.first {
            return describeConnectError(failure.error)
        }
        return "cannot resolve host \(error.host)"
    }
    if let error = error as? ChannelError, case .connectTimeout(let timeout) = error {
        return "connect timed out after \(timeout.nanoseconds / 1_000_000) ms"
    }
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode)).lowercased()
    }
    return "\(error)"
}
