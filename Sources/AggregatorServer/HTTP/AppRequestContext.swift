import AggregatorCore
import Hummingbird
import Logging

/// Per-request state: who is asking and the request id every response carries.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = RequestIDs.make()
    }

    /// Bodies are collected by the handlers with the configured limit, not by Hummingbird's default.
    public var maxUploadSize: Int { .max }

    /// The tenant making the request; admin-only paths check `principal` instead.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw GatewayError.invalidAPIKey("You didn't provide an API key.") }
        return principal
    }
}

enum RequestIDs {
    private static let hex = Array("0123456789abcdef")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var id = "req_"
        id.reserveCapacity(28)
        for _ in 0..<24 { id.append(hex[Int.random(in: 0..<16, using: &generator)]) }
        return id
    }
}
