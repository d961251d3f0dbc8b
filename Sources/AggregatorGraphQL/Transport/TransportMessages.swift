import AggregatorCore
import GraphQL

/// The WebSocket subprotocols served at `/graphql` (WIRE.md §4).
public enum GraphQLSubprotocol: String, Sendable, CaseIterable {
    /// The `graphql-ws` library's protocol.
    case transportWS = "graphql-transport-ws"
    /// The legacy Apollo `subscriptions-transport-ws` protocol, whose name is confusingly `graphql-ws`.
    case legacyWS = "graphql-ws"
}

/// What every client message has: its type, and an operation id for operation messages.
struct ClientEnvelope: Decodable {
    var type: String
    var id: String?
}

/// `connection_init`: the key may ride in the payload as `Authorization: Bearer KEY` or `x-api-key`.
struct ConnectionInitMessage: Decodable {
    var payload: ConnectionParams?
}

struct ConnectionParams: Decodable {
    var key: String?

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for codingKey in container.allKeys {
            guard let value = try? container.decode(String.self, forKey: codingKey) else { continue }
            switch codingKey.stringValue.lowercased() {
            case "authorization":
                if let token = APIKey.bearerToken(value) { key = token }
            case "x-api-key", "apikey", "api_key":
                if key == nil { key = value }
            default:
                continue
            }
        }
    }
}

/// `subscribe` (graphql-transport-ws) and `start` (legacy): an operation under a client-chosen id.
struct OperationMessage: Decodable {
    var id: String
    var payload: GraphQLOperationRequest
}

/// A message with only a type: `connection_ack`, `ping`, `pong`, `ka`.
struct BareMessage: Encodable {
    var type: String
}

/// `next` / `data`: one execution result.
struct ResultMessage: Encodable {
    var id: String
    var type: String
    var payload: GraphQLResult
}

/// graphql-transport-ws `error`: the operation's errors, terminal for its id.
struct ErrorsMessage: Encodable {
    var id: String
    var type = "error"
    var payload: [GraphQLError]
}

/// Legacy `error`: one error object.
struct ErrorMessage: Encodable {
    var id: String
    var type = "error"
    var payload: GraphQLError
}

/// Legacy `connection_error`.
struct ConnectionErrorMessage: Encodable {
    struct Payload: Encodable {
        var message: String
    }
    var type = "connection_error"
    var payload: Payload
}

/// `complete`.
struct CompleteMessage: Encodable {
    var id: String
    var type = "complete"
}

/// Close codes (WIRE.md §4.1), and the ones both protocols share.
public enum GraphQLCloseCode: Int, Sendable {
    case normal = 1000
    case internalError = 1011
    /// A subscriber that cannot keep up is cut off; clients may reconnect later.
    case tryAgainLater = 1013
    case badRequest = 4400
    case unauthorized = 4401
    case forbidden = 4403
    case subprotocolNotAcceptable = 4406
    case connectionInitialisationTimeout = 4408
    case subscriberAlreadyExists = 4409
    case tooManyInitialisationRequests = 4429
    case internalServerError = 4500
}
