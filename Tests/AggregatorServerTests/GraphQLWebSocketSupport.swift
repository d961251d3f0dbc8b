import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Testing

/// A scripted WebSocket client for the GraphQL socket tests.
struct GraphQLSocketScript {
    var inbound: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter

    mutating func send(_ text: String) async throws { try await outbound.write(.text(text)) }

    /// The next text message, decoded; nil when the server closed.
    mutating func next() async throws -> JSON? {
        while let message = try await inbound.next() {
            if case .text(let text) = message { return try JSON.parse(text) }
        }
        return nil
    }

    /// The next message that is not a keep-alive.
    mutating func nextSkippingKA() async throws -> JSON? {
        while let message = try await next() {
            if message["type"].string != "ka" { return message }
        }
        return nil
    }

    /// Reads until the server closes, returning what arrived.
    mutating func drain() async throws -> [JSON] {
        var out: [JSON] = []
        while let message = try await next() { out.append(message) }
        return out
    }
}

extension TestGateway {
    /// Connects to `/graphql` with the subprotocol, runs the script (bounded by a timeout), returns the close code.
    @discardableResult
    func socket(
        _ subprotocol: String?, headers: HTTPFields = [:], timeout: Duration = .seconds(20),
        _ script: @escaping @Sendable (inout GraphQLSocketScript) async throws -> Void
    ) async throws -> Int? {
        var all = headers
        if let subprotocol { all[.secWebSocketProtocol] = subprotocol }
        let port = try #require(client.port)
        let upgradeHeaders = all
        let close = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                let frame = try await WebSocketClient.connect(
                    url: "ws://localhost:\(port)/graphql", configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: upgradeHeaders),
                    logger: Logger(label: "ws-test")
                ) { inbound, outbound, _ in
                    var s = GraphQLSocketScript(inbound: inbound.messages(maxSize: 1 << 20).makeAsyncIterator(), outbound: outbound)
                    try await script(&s)
                }
                return frame.map { Int($0.closeCode.codeValue) }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SocketScriptTimeout(subprotocol: subprotocol, headers: upgradeHeaders.map(\.name.canonicalName), timeout: timeout)
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        return close
    }
}

/// A socket script that neither finished nor saw the server close in time; says which connection it was.
struct SocketScriptTimeout: Error, CustomStringConvertible {
    var subprotocol: String?
    var headers: [String]
    var timeout: Duration
    var description: String { "socket script (subprotocol \(subprotocol ?? "none"), headers \(headers)) still open after \(timeout)" }
}

extension WebSocketErrorCode {
    var codeValue: UInt16 {
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: self)
        return buffer.readInteger(as: UInt16.self) ?? 0
    }
}
