import AggregatorCore
import Foundation
import HTTPTypes
import Hummingbird

/// Times every `/v1`, `/stream` and `/graphql` request: `x-aggregator-overhead-ms` on each `/v1` response (the
/// time spent in the gateway, upstream waits excluded, up to the response head), and — with metrics on — the
/// overhead histogram, in-flight gauge, request counter and duration (a stream's are recorded at its end, by the
/// stream). Outermost, so it sees every answer, errors included, as the client gets it.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: GatewayMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let isV1 = path.hasPrefix("/v1/")
        let operation = Self.operation(path: path, method: request.method)
        guard isV1 || operation != nil else { return try await next(request, context) }
        let started = ContinuousClock.now
        if let operation { metrics?.inflight(operation, by: 1) }
        defer { if let operation { metrics?.inflight(operation, by: -1) } }
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let timing = context.timing
        let overhead = max(.zero, elapsed - timing.upstream)
        if isV1 { response.headers[.aggregatorOverhead] = Self.milliseconds(overhead) }
        if let metrics, let operation {
            let streamed = timing.isStreamed
            metrics.overhead(operation, stream: streamed, overhead)
            if !streamed {
                let target = timing.target
                metrics.requestFinished(
                    operation, provider: target.provider, model: target.model, stream: false, status: Int(response.status.code), duration: elapsed)
            }
        }
        return response
    }

    /// The operation a request is counted under; nil for those not counted (`/v1/models`, health, `/metrics`).
    static func operation(path: String, method: HTTPRequest.Method) -> GatewayMetrics.Operation? {
        switch path {
        case "/v1/chat/completions": .chat
        case "/v1/messages": method == .post ? .messages : nil
        case "/stream", "/stream/": method == .post ? .stream : nil
        case "/graphql", "/graphql/": .graphql
        default: nil
        }
    }

    /// Milliseconds with three decimals.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.nanoseconds / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

extension HTTPField.Name {
    static let aggregatorOverhead = HTTPField.Name("x-aggregator-overhead-ms")!
}
