import NIOCore

/// A command that never left because its connection had already closed: safe to send again on another one.
struct CommandNotSent: Error {}

/// What is written into a Redis channel.
enum RedisOutbound: Sendable {
    /// Encoded commands (one or more, pipelined in this one write) and a promise per command, each answered in order.
    case commands(ByteBuffer, [EventLoopPromise<RESPValue>], deadline: NIODeadline?)
    /// A command on a subscriber connection (SUBSCRIBE, PSUBSCRIBE, PING): from now on every reply is a push.
    case subscriberCommand(ByteBuffer)
}

/// Matches replies to the commands that asked for them (RESP2 answers in order), fails them on a timeout, a protocol
/// error or a closed connection, and on a subscriber connection hands every reply on as a push.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisOutbound
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var promise: EventLoopPromise<RESPValue>
        var timer: Scheduled<Void>?
    }

    private let endpoint: String
    private let pushes: AsyncStream<RESPValue>.Continuation?
    private var pending = CircularBuffer<Pending>()
    private var nextID: UInt64 = 0
    private var subscribed = false
    private var awaitingPong = false
    private var failure: RedisError?

    /// `pushes` receives the replies of a subscriber connection (messages, confirmations, pongs); it is finished when
    /// the connection closes.
    init(endpoint: String, pushes: AsyncStream<RESPValue>.Continuation?) {
        self.endpoint = endpoint
        self.pushes = pushes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .commands(let bytes, let promises, let deadline):
            if failure != nil {
                promises.forEach { $0.fail(CommandNotSent()) }
                promise?.fail(CommandNotSent())
                return
            }
            for commandPromise in promises {
                nextID += 1
                let id = nextID
                var timer: Scheduled<Void>?
                if let deadline {
                    timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                        timedOut(id: id, context: context)
                    }
                }
                pending.append(Pending(id: id, promise: commandPromise, timer: timer))
            }
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .subscriberCommand(let bytes):
            subscribed = true
            context.write(wrapOutboundOut(bytes), promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        awaitingPong = false
        if subscribed, pending.isEmpty {
            pushes?.yield(reply)
            return
        }
        guard let head = pending.popFirst() else {
            fail(.protocolError("a reply arrived for no command"), context: context)
            return
        }
        head.timer?.cancel()
        head.promise.succeed(reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error as? RedisError ?? .connectionClosed, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(with: failure ?? .connectionClosed)
        if failure == nil { failure = .connectionClosed }
        pushes?.finish()
        context.fireChannelInactive()
    }

    /// On a subscriber connection (with an `IdleStateHandler` in front): nothing read for a while sends PING; still
    /// nothing after as long again closes the connection, so a dead link is noticed and reconnected.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, subscribed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if awaitingPong {
            fail(.timeout(endpoint: endpoint), context: context)
        } else {
            awaitingPong = true
            var ping = context.channel.allocator.buffer(capacity: 14)
            RedisCommand("PING").encode(into: &ping)
            context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
        }
    }

    private func timedOut(id: UInt64, context: ChannelHandlerContext) {
        guard pending.contains(where: { $0.id == id }) else { return }
        fail(.timeout(endpoint: endpoint), context: context)
    }

    /// Replies can no longer be matched to commands: fail everything pending and close.
    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        failPending(with: error)
        context.close(promise: nil)
    }

    private func failPending(with error: RedisError) {
        while let head = pending.popFirst() {
            head.timer?.cancel()
            head.promise.fail(error)
        }
    }
}
