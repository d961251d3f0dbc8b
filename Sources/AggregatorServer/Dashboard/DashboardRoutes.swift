import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard at `/` (SPEC §13): its files by path, and `index.html` for every other path that is not an
/// API's, so each page has a URL of its own (`/jobs?status=FAILED`). Revalidated by ETag; served under a
/// Content-Security-Policy that allows nothing inline and no other origin.
struct DashboardRoutes: Sendable {
    let assets: DashboardAssets

    /// Paths that belong to the APIs: an unknown path under them stays a 404, never the dashboard.
    static let apiPrefixes = ["/v1", "/graphql", "/stream", "/health", "/healthz", "/readyz", "/metrics", "/playground"]

    static let securityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
        "require-trusted-types-for 'script'", "trusted-types 'none'",
    ].joined(separator: "; ")

    func register(on router: Router<AppRequestContext>) {
        router.get("/") { request, _ in try serve(request) }
        router.get("/**") { request, _ in try serve(request) }
    }

    func serve(_ request: Request) throws -> Response {
        let path = request.uri.path
        if Self.apiPrefixes.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { throw HTTPError(.notFound) }
        let file: DashboardFile
        if let found = assets.file(path) {
            file = found
        } else if path.split(separator: "/").last?.contains(".") == true {
            // A missing script or stylesheet is a 404, not the page: the browser would run HTML as a module.
            throw HTTPError(.notFound)
        } else if let index = assets.file("/index.html") {
            file = index
        } else {
            throw HTTPError(.notFound)
        }
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = Self.securityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = file.etag
        if let tags = request.headers[.ifNoneMatch], Self.matches(tags, file.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// `If-None-Match`: `*`, or a list of tags, weak or strong (compared weakly, as RFC 9110 asks for it).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { raw in
            let tag = raw.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("referrer-policy")!
}
