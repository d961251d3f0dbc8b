import AggregatorCore
import AggregatorGraphQL
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging

/// `/graphql` (POST, GET, WebSocket upgrade), `/graphql/schema` and `/playground`.
struct GraphQLRoutes: Sendable {
    let api: GraphQLAPI
    let authenticator: Authenticator
    let settings: GraphQLSettings

    init(services: GraphQLServices, authenticator: Authenticator, limits: QueryLimits, settings: GraphQLSettings, logger: Logger) throws {
        var services = services
        services.subscriptionBufferSize = settings.subscriptionBufferSize
        self.api = try GraphQLAPI(services: services, limits: limits, logger: logger)
        self.authenticator = authenticator
        self.settings = settings
    }

    func register(on router: Router<AppRequestContext>, playground: Bool) throws {
        let handler = GraphQLHTTPHandler(api: api, authenticator: authenticator, maxBodyBytes: settings.maxBodyBytes)
        router.post("/graphql") { request, context in try await handler.post(request, context: context) }
        router.get("/graphql") { request, context in try await handler.get(request, context: context) }
        let sdl = try AggregatorSchema.sdl()
        router.get("/graphql/schema") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: sdl)))
        }
        if playground {
            router.get("/playground") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: PlaygroundPage.html)))
            }
        }
    }

    /// The HTTP/1 server with WebSocket upgrades at `/graphql`.
    var server: HTTPServerBuilder {
        let upgrade = GraphQLWebSocketUpgrade(api: api, authenticator: authenticator, settings: settings)
        return .http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: settings.maxFrameSize, autoPing: .enabled(timePeriod: .seconds(12))))
        ) { head, _, _ in upgrade.shouldUpgrade(head) }
    }
}
