import AggregatorCore
import Foundation

extension GraphQLSocketSession {
    /// graphql-transport-ws: init → ack, ping/pong, subscribe/next/error/complete, 44xx closes.
    func receiveTransportWS(_ envelope: ClientEnvelope, _ data: Data) async {
        switch envelope.type {
        case "connection_init":
            guard !initialised else { return await close(.tooManyInitialisationRequests, "Too many initialisation requests") }
            guard await connectionInit(data) else { return await close(.forbidden, "Forbidden") }
            await send(BareMessage(type: "connection_ack"))
        case "ping":
            await send(BareMessage(type: "pong"))
        case "pong":
            return
        case "subscribe":
            guard let principal = currentPrincipal else { return await close(.unauthorized, "Unauthorized") }
            guard let message = try? JSONDecoder().decode(OperationMessage.self, from: data), !message.id.isEmpty else {
                return await malformed("Invalid subscribe message")
            }
            guard !isActive(message.id) else { return await close(.subscriberAlreadyExists, "Subscriber for \(message.id) already exists") }
            await startOperation(message.id, message.payload, as: principal)
        case "complete":
            guard let id = envelope.id else { return await malformed("complete needs an id") }
            cancelOperation(id)
        default:
            await malformed("Invalid message type '\(envelope.type.prefix(40))'")
        }
    }

    /// Legacy graphql-ws: init → ack + ka, start/data/error/complete, stop, connection_terminate.
    func receiveLegacy(_ envelope: ClientEnvelope, _ data: Data) async {
        switch envelope.type {
        case "connection_init":
            guard !initialised else { return await malformed("Already initialised") }
            guard await connectionInit(data) else {
                await send(ConnectionErrorMessage(payload: .init(message: "Forbidden: a valid API key is required")))
                return await close(.internalError, "Forbidden")
            }
            await send(BareMessage(type: "connection_ack"))
            await send(BareMessage(type: "ka"))
            startKeepAlive()
        case "start":
            guard let message = try? JSONDecoder().decode(OperationMessage.self, from: data), !message.id.isEmpty else {
                return await malformed("Invalid start message")
            }
            guard let principal = currentPrincipal else {
                return await sendErrors(message.id, [GraphQLAPIError.unauthenticated("Send connection_init with a valid key first.").graphQLError])
            }
            // A start for an id in use replaces that operation.
            cancelOperation(message.id)
            await startOperation(message.id, message.payload, as: principal)
        case "stop":
            guard let id = envelope.id else { return await malformed("stop needs an id") }
            if isActive(id) {
                cancelOperation(id)
                await send(CompleteMessage(id: id))
            }
        case "connection_terminate":
            await close(.normal, "Normal closure")
        default:
            await malformed("Invalid message type '\(envelope.type.prefix(40))'")
        }
    }
}
