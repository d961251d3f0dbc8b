import AggregatorCore
import AggregatorGraphQL
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket

/// WebSocket upgrades at `/graphql`: picks the subprotocol from `Sec-WebSocket-Protocol` and runs a
/// `GraphQLSocketSession` over the socket. A request for any other path stays plain HTTP.
struct GraphQLWebSocketUpgrade: Sendable {
    let api: GraphQLAPI
    let authenticator: Authenticator
    let settings: GraphQLSettings

    func shouldUpgrade(_ head: HTTPRequest) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let path = head.path.map { String($0.prefix { $0 != "?" }) } ?? ""
        guard path == "/graphql" || path == "/graphql/" else { return .dontUpgrade }
        let offered = (head.headerFields[values: .secWebSocketProtocol]).flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        // graphql-transport-ws wins when both are offered.
        let chosen = GraphQLSubprotocol.allCases.first { offered.contains($0.rawValue) }
        var headers = HTTPFields()
        if let chosen { headers[.secWebSocketProtocol] = chosen.rawValue }
        let authorization = head.headerFields[.authorization]
        let apiKey = head.headerFields[.apiKey]
        return .upgrade(headers) { inbound, outbound, context in
            guard let chosen else {
                try await outbound.close(.unknown(UInt16(GraphQLCloseCode.subprotocolNotAcceptable.rawValue)), reason: "Subprotocol not acceptable")
                return
            }
            let session = GraphQLSocketSession(
                subprotocol: chosen, api: api, settings: settings.socket,
                socket: SocketActions(
                    send: { text in try await outbound.write(.text(text)) },
                    close: { code, reason in try await outbound.close(.unknown(UInt16(code)), reason: reason) }),
                headerPrincipal: { [authenticator] in
                    guard authorization != nil || apiKey != nil else { return nil }
                    return try await authenticator.principal(authorization: authorization, apiKey: apiKey)
                },
                authenticate: { [authenticator] key in try await authenticator.principal(key: key) })
            await session.start()
            do {
                for try await message in inbound.messages(maxSize: settings.maxFrameSize) {
                    switch message {
                    case .text(let text): await session.receive(text)
                    case .binary: await session.receivedNonText()
                    }
                    if await session.isClosed { break }
                }
            } catch {
                // Thrown on: the connection closes with the code the error carries (1009 for a message over
                // `maxFrameSize`, whole or in fragments; 1002, 1007 for protocol errors), not as a normal closure.
                context.logger.debug("graphql websocket ended", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
                await session.end()
                throw error
            }
            await session.end()
        }
    }
}
