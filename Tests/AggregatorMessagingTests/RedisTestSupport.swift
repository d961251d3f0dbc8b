import AggregatorMessaging
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A redis-server of the test's own on a free loopback port, for tests that stop, restart or password-protect it.
final class RedisTestServer: Sendable {
    let port: Int
    let extraArguments: [String]
    private let process = NIOLockedValueBox<Process?>(nil)

    private init(port: Int, extraArguments: [String]) {
        self.port = port
        self.extraArguments = extraArguments
    }

    static func start(_ extraArguments: [String] = []) async throws -> RedisTestServer {
        let server = RedisTestServer(port: try await freePort(), extraArguments: extraArguments)
        try await server.start()
        return server
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }
    var endpoint: String { "127.0.0.1:\(port)" }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try redisServerPath())
        process.arguments = [
            "--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--enable-debug-command", "local", "--dir", NSTemporaryDirectory(),
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLockedValue { $0 = process }
        // Ready when it accepts a connection.
        for _ in 0..<500 {
            if try await accepts(port: port) { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("redis-server did not start on port \(port)")
    }

    /// Kills the server (SIGKILL: like a crash, nothing said to clients) and waits until it is gone.
    func kill() async throws {
        guard let process = self.process.withLockedValue({ $0 }) else { return }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<500 where process.isRunning {
            try await Task.sleep(for: .milliseconds(10))
        }
        self.process.withLockedValue { $0 = nil }
    }

    private func redisServerPath() throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map(String.init)
        where FileManager.default.isExecutableFile(atPath: "\(directory)/redis-server") {
            return "\(directory)/redis-server"
        }
        throw TestFailure("redis-server is not installed: run `make test` (scripts/ensure-tools.sh redis installs it)")
    }
}

/// Runs `body` with a server of its own, killed afterwards whatever happens.
func withRedisServer<T: Sendable>(_ extraArguments: [String] = [], _ body: (RedisTestServer) async throws -> T) async throws -> T {
    let server = try await RedisTestServer.start(extraArguments)
    do {
        let result = try await body(server)
        try await server.kill()
        return result
    } catch {
        try? await server.kill()
        throw error
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The shared server `make test` starts (scripts/redis-test-server.sh).
func sharedRedisConfiguration() throws -> RedisConfiguration {
    guard let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"], !url.isEmpty else {
        throw TestFailure(
            "TEST_REDIS_URL is not set: the Redis tests need a server. Run `make test`, or "
                + "`eval \"$(scripts/redis-test-server.sh start)\"` before `swift test`.")
    }
    return try RedisConfiguration(url: url)
}

/// A port nothing listens on (just now).
func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

private func accepts(port: Int) async throws -> Bool {
    do {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.close()
        return true
    } catch {
        return false
    }
}

/// A TCP server that speaks just enough RESP for a test: `answer` gets the number of each read on a connection (0
/// is the handshake's PING) and returns the bytes to send back, or nil to stay silent.
final class ScriptedRedisServer: Sendable {
    let channel: any Channel
    let connections: NIOLockedValueBox<Int>

    var port: Int { channel.localAddress?.port ?? 0 }
    var endpoint: String { "127.0.0.1:\(port)" }

    init(answer: @escaping @Sendable (Int) -> String?) async throws {
        let connections = NIOLockedValueBox(0)
        self.connections = connections
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async throws {
        try await channel.close()
    }

    private final class ScriptedHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: @Sendable (Int) -> String?
        var reads = 0
        init(answer: @escaping @Sendable (Int) -> String?) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            defer { reads += 1 }
            guard let reply = answer(reads) else { return }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
        }
    }
}

/// Keeps every log line (message and metadata) so a test can check what was logged.
final class LogCapture: Sendable {
    let lines = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "redis-test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLockedValue { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}

/// A key no other test uses.
func uniqueKey(_ name: String) -> String {
    "test:\(name):\(UUID().uuidString)"
}

/// Runs `body` with a client on `configuration`, closing it afterwards.
@discardableResult
func withClient<T: Sendable>(
    _ configuration: RedisConfiguration, logger: Logger = Logger(label: "redis-test"),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: configuration, logger: logger)
    defer { client.close() }
    return try await body(client)
}
