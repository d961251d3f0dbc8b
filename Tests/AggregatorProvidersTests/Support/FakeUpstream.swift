import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A local HTTP server standing in for an AI provider: it records every request and answers from a
/// script, typically replaying a file of `Fixtures/`.
final class FakeUpstream: Sendable {
    struct Recorded: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    }

    /// One part of a scripted answer body.
    enum Part: Sendable {
        case bytes([UInt8])
        case pause(Duration)
        /// Drop the connection here (a stream cut mid-way).
        case abort
    }

    struct Reply: Sendable {
        var status: Int = 200
        var headers: [String: String] = ["content-type": "application/json"]
        var parts: [Part] = []

        static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> Reply {
            Reply(status: status, headers: ["content-type": "application/json"].merging(headers) { $1 }, parts: [.bytes(Array(text.utf8))])
        }

        /// Streams `text` in pieces split after every blank line (SSE) or newline (NDJSON), as a real upstream flushes.
        static func stream(_ text: String, contentType: String, pause: Duration? = nil, abortAfter: Int? = nil) -> Reply {
            let separator = contentType.contains("event-stream") ? "\n\n" : "\n"
            var parts: [Part] = []
            let pieces = text.components(separatedBy: separator).filter { !$0.isEmpty }
            for (i, piece) in pieces.enumerated() {
                if let abortAfter, i == abortAfter {
                    // Give the bytes already written time to reach the client before the connection drops: closing
                    // at once can discard writes still queued in the server's channel, and the test would then see
                    // fewer chunks than it expects (CI saw this once under full-suite load).
                    parts.append(.pause(.milliseconds(200)))
                    parts.append(.abort)
                    break
                }
                if let pause { parts.append(.pause(pause)) }
                parts.append(.bytes(Array((piece + separator).utf8)))
            }
            return Reply(status: 200, headers: ["content-type": contentType], parts: parts)
        }
    }

    typealias Script = @Sendable (Recorded) -> Reply

    private let recorded = Mutex<[Recorded]>([])
    private let script: Mutex<Script>
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)
    private let group: Mutex<ServiceGroup?> = Mutex(nil)
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Recorded] { recorded.withLock { $0 } }

    func setScript(_ script: @escaping Script) { self.script.withLock { $0 = script } }

    private init(port: Int, script: @escaping Script) {
        self.port = port
        self.script = Mutex(script)
    }

    struct Aborted: Error {}

    /// Starts on a free loopback port; `stop()` ends it.
    static func start(_ script: @escaping Script = { _ in .json("{}") }) async throws -> FakeUpstream {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let holder = Mutex<FakeUpstream?>(nil)
        let responder = Responder(upstream: { holder.withLock { $0 } })
        var logger = Logger(label: "fake-upstream")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        // Shut down gracefully (in-flight replies get a moment to end) so no accepted connection is dropped
        // half-made, which NIO treats as a programming error.
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(300)
        let group = ServiceGroup(configuration: configuration)
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw Aborted() }
        let upstream = FakeUpstream(port: port, script: script)
        holder.withLock { $0 = upstream }
        upstream.task.withLock { $0 = task }
        upstream.group.withLock { $0 = group }
        return upstream
    }

    /// Retires the fake. Its server is left running until the test process exits: shutting a Hummingbird
    /// server down while the client's pool may still be opening a connection to it drops a half-accepted
    /// connection, which NIO treats as a programming error and crashes the whole test process
    /// ("Deinited NIOAsyncWriter without calling finish()"). An idle loopback listener costs nothing.
    func shutdown() async {}

    /// `shutdown()` without waiting.
    func stop() {}

    fileprivate func handle(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024 * 1024)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let record = Recorded(
            method: request.method.rawValue, path: request.uri.path, headers: headers,
            body: Array(buffer: body))
        recorded.withLock { $0.append(record) }
        let reply = script.withLock { $0 }(record)
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        let parts = reply.parts
        return Response(
            status: .init(code: reply.status), headers: fields,
            body: ResponseBody { writer in
                for part in parts {
                    switch part {
                    case .bytes(let bytes): try await writer.write(ByteBuffer(bytes: bytes))
                    case .pause(let d): try await Task.sleep(for: d)
                    case .abort: throw Aborted()
                    }
                }
                try await writer.finish(nil)
            })
    }

    private struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let upstream: @Sendable () -> FakeUpstream?

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            guard let upstream = upstream() else { return Response(status: .serviceUnavailable) }
            return try await upstream.handle(request)
        }
    }
}

/// Reads a file of the repository's `Fixtures/` folder.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
}
