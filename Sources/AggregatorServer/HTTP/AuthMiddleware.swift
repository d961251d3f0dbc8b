import AggregatorCore
import Hummingbird

/// Resolves the caller from `Authorization: Bearer KEY` or `x-api-key: KEY` (SPEC §4). The admin key is
/// compared in constant time; tenant keys are hashed and looked up in the in-memory directory.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.principal = try await authenticator.principal(
            authorization: request.headers[.authorization], apiKey: request.headers[.apiKey])
        return try await next(request, context)
    }
}

/// Turns a presented key into a principal. Shared by HTTP routes and the WebSocket handshake.
public struct Authenticator: Sendable {
    let adminKeyHash: [UInt8]?
    let directory: Directory

    public init(adminKey: String?, directory: Directory) {
        self.adminKeyHash = adminKey.map(APIKey.digest)
        self.directory = directory
    }

    static func key(authorization: String?, apiKey: String?) -> String? {
        if let key = authorization.flatMap(APIKey.bearerToken) { return key }
        if let apiKey, !apiKey.isEmpty { return apiKey }
        return nil
    }

    public func principal(authorization: String?, apiKey: String?) async throws -> Principal {
        guard let key = Self.key(authorization: authorization, apiKey: apiKey) else {
            throw GatewayError.invalidAPIKey(
                "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'.")
        }
        return try await principal(key: key)
    }

    public func principal(key: String) async throws -> Principal {
        let presented = APIKey.digest(key)
        if let adminKeyHash {
            var difference: UInt8 = 0
            for (a, b) in zip(presented, adminKeyHash) { difference |= a ^ b }
            if difference == 0 { return .admin }
        }
        let tenant: Tenant?
        do {
            tenant = try await directory.tenant(keyHash: APIKey.hex(presented))
        } catch {
            throw GatewayError.serviceUnavailable("The gateway's store is unavailable; try again shortly.")
        }
        guard let tenant else { throw GatewayError.invalidAPIKey("Incorrect API key provided: \(APIKey.displayPrefix(key))….") }
        guard tenant.active else { throw GatewayError.tenantInactive }
        return .tenant(tenant)
    }
}
