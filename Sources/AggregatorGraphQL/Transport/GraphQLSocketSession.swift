import AggregatorCore
import AggregatorWire
import Foundation
import GraphQL

/// How a socket session reaches its connection: send a text message, close with a code.
public struct SocketActions: Sendable {
    public var send: @Sendable (String) async throws -> Void
    public var close: @Sendable (_ code: Int, _ reason: String) async throws -> Void

    public init(send: @escaping @Sendable (String) async throws -> Void, close: @escaping @Sendable (Int, String) async throws -> Void) {
        self.send = send
        self.close = close
    }
}

public struct GraphQLSocketSettings: Sendable {
    /// How long a client may take to send `connection_init`.
    public var initTimeout: Duration
    /// Legacy protocol `ka` interval.
    public var keepAliveInterval: Duration
    /// Operations one connection may run at once.
    public var maxOperations: Int

    public init(initTimeout: Duration = .seconds(3), keepAliveInterval: Duration = .seconds(12), maxOperations: Int = 100) {
        self.initTimeout = initTimeout
        self.keepAliveInterval = keepAliveInterval
        self.maxOperations = maxOperations
    }
}

/// One WebSocket connection speaking `graphql-transport-ws` or the legacy `graphql-ws`: the handshake,
/// then operations multiplexed by id. The transport feeds it text messages with `receive` and calls
/// `end` when the socket is gone; the session never touches the socket but through `SocketActions`.
public actor GraphQLSocketSession {
    let subprotocol: GraphQLSubprotocol
    let api: GraphQLAPI
    let settings: GraphQLSocketSettings
    let socket: SocketActions
    /// The principal of the upgrade request's key, if it carried one (nil: none; throws: a bad key).
    let headerPrincipal: @Sendable () async throws -> Principal?
    let authenticate: @Sendable (String) async throws -> Principal

    private var initReceived = false
    private var principal: Principal?
    private var operations: [String: Task<Void, Never>] = [:]
    private var timers: [Task<Void, Never>] = []
    public private(set) var isClosed = false

    public init(
        subprotocol: GraphQLSubprotocol, api: GraphQLAPI, settings: GraphQLSocketSettings, socket: SocketActions,
        headerPrincipal: @escaping @Sendable () async throws -> Principal?, authenticate: @escaping @Sendable (String) async throws -> Principal
    ) {
        self.subprotocol = subprotocol
        self.api = api
        self.settings = settings
        self.socket = socket
        self.headerPrincipal = headerPrincipal
        self.authenticate = authenticate
    }

    /// Starts the `connection_init` timer.
    public func start() {
        let timeout = settings.initTimeout
        timers.append(
            Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                await self.initTimedOut()
            })
    }

    private func initTimedOut() async {
        guard !initReceived else { return }
        await close(.connectionInitialisationTimeout, "Connection initialisation timeout")
    }

    /// Handles one text message from the client.
    public func receive(_ text: String) async {
        guard !isClosed else { return }
        // Strict and shallow before Foundation's decoder reads it (several times, once per step).
        let bytes = Array(text.utf8)
        guard (try? JSONReader.validate(bytes, maxDepth: GraphQLRequestJSON.maxDepth)) != nil else {
            return await malformed("Invalid message received")
        }
        let data = Data(bytes)
        guard let envelope = try? JSONDecoder().decode(ClientEnvelope.self, from: data) else {
            return await malformed("Invalid message received")
        }
        switch subprotocol {
        case .transportWS: await receiveTransportWS(envelope, data)
        case .legacyWS: await receiveLegacy(envelope, data)
        }
    }

    /// A binary message or another frame neither protocol allows.
    public func receivedNonText() async {
        await malformed("Invalid message received")
    }

    /// The socket is gone: stop every operation and timer.
    public func end() {
        isClosed = true
        for task in operations.values { task.cancel() }
        for task in timers { task.cancel() }
        operations.removeAll()
        timers.removeAll()
    }

    // MARK: - Shared steps

    func connectionInit(_ data: Data) async -> Bool {
        guard let message = try? JSONDecoder().decode(ConnectionInitMessage.self, from: data) else {
            await malformed("connection_init payload must be an object")
            return false
        }
        initReceived = true
        do {
            if let key = message.payload?.key {
                principal = try await authenticate(key)
            } else {
                principal = try await headerPrincipal()
            }
        } catch {
            principal = nil
        }
        return principal != nil
    }

    func malformed(_ reason: String) async {
        switch subprotocol {
        case .transportWS: await close(.badRequest, reason)
        case .legacyWS: await send(ConnectionErrorMessage(payload: .init(message: reason)))
        }
    }

    func close(_ code: GraphQLCloseCode, _ reason: String) async {
        guard !isClosed else { return }
        try? await socket.close(code.rawValue, reason)
        end()
    }

    func send(_ message: some Encodable) async {
        guard !isClosed, let data = try? GraphQLJSONEncoder().encode(message) else { return }
        try? await socket.send(String(decoding: data, as: UTF8.self))
    }

    func isActive(_ id: String) -> Bool { operations[id] != nil }

    func cancelOperation(_ id: String) {
        operations.removeValue(forKey: id)?.cancel()
    }

    func startOperation(_ id: String, _ request: GraphQLOperationRequest, as principal: Principal) async {
        guard operations.count < settings.maxOperations else {
            return await sendErrors(id, [GraphQLAPIError(code: "TOO_MANY_OPERATIONS", message: "At most \(settings.maxOperations) operations may run on one connection.").graphQLError])
        }
        let operation: PreparedOperation
        switch api.prepare(request) {
        case .failure(let failure): return await sendErrors(id, failure.errors)
        case .success(let prepared): operation = prepared
        }
        guard operation.kind == .subscription else {
            operations[id] = Task { await self.execute(id, operation, as: principal) }
            return
        }
        // A subscription is set up before the next message of this connection is read, so an event that
        // happens after the client saw a reply to a later message (a `pong`, say) is delivered.
        let events: SubscriptionEvents
        switch await api.subscribe(operation, as: principal) {
        case .failure(let failure): return await sendErrors(id, failure.errors)
        case .success(let stream): events = stream
        }
        guard !isClosed else { return }
        operations[id] = Task { await self.relay(id, events, of: operation, as: principal) }
    }

    private func execute(_ id: String, _ operation: PreparedOperation, as principal: Principal) async {
        let result = await api.execute(operation, as: principal)
        guard !Task.isCancelled else { return }
        await sendResult(id, result)
        await finished(id)
    }

    private func relay(_ id: String, _ events: SubscriptionEvents, of operation: PreparedOperation, as principal: Principal) async {
        do {
            for try await event in events {
                await sendResult(id, await api.result(of: operation, event: event, as: principal))
            }
            if !Task.isCancelled { await finished(id) }
        } catch is SlowSubscriberError {
            await close(.tryAgainLater, "Subscriber too slow")
        } catch {
            if !Task.isCancelled { await close(subprotocol == .transportWS ? .internalServerError : .internalError, "Internal server error") }
        }
    }

    private func finished(_ id: String) async {
        guard operations.removeValue(forKey: id) != nil else { return }
        await send(CompleteMessage(id: id))
    }

    private func sendResult(_ id: String, _ result: GraphQLResult) async {
        guard operations[id] != nil else { return }
        await send(ResultMessage(id: id, type: subprotocol == .transportWS ? "next" : "data", payload: result))
    }

    func sendErrors(_ id: String, _ errors: [GraphQLError]) async {
        switch subprotocol {
        case .transportWS: await send(ErrorsMessage(id: id, payload: errors))
        case .legacyWS: await send(ErrorMessage(id: id, payload: errors.first ?? GraphQLAPIError.internalError.graphQLError))
        }
    }

    func startKeepAlive() {
        let interval = settings.keepAliveInterval
        timers.append(
            Task {
                while (try? await Task.sleep(for: interval)) != nil {
                    await self.send(BareMessage(type: "ka"))
                }
            })
    }

    var currentPrincipal: Principal? { principal }
    var initialised: Bool { initReceived }
}
