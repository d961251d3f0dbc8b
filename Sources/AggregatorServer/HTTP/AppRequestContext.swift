import AggregatorCore
import Hummingbird
import Logging

/// Per-request state: who is asking and the request id every response carries.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestID: String
    /// Upstream waits and the answering target, for the overhead header and the metrics.
    let timing = RequestTiming()

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
    /// `req_` and 24 random hex digits.
    static func make() -> String { RandomPool.hexID(prefix: "req_", digits: 24) }
}
