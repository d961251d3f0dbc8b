import AggregatorCore
import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The gateway's metrics (SPEC §10), recorded through swift-metrics into a Prometheus registry of the
/// application's own (no process-wide bootstrap: tests run many applications in one process), served at
/// `GET /metrics`.
///
/// Labels are few and bounded: an operation, a provider that is on, a model that was priced or is a route
/// alias (anything else is `other`), a status code. Never a tenant, key, request id or free text.
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let directory: Directory
    /// Handles of series whose labels are known at start, made once.
    private let inflightMeters: [Operation: CoreMetrics.Meter]
    private let overheadTimers: [String: CoreMetrics.Timer]
    /// Handles of the other series, made on first use: a request looks its labels up once instead of having the
    /// registry find each of its metrics by name and labels (the bench measured that at several percent).
    private let series = Mutex(Series())

    private struct RequestKey: Hashable {
        var operation: Operation, provider: String, model: String, stream: Bool, status: Int
    }

    private struct ModelKey: Hashable {
        var provider: String, model: String
    }

    private struct Series {
        var requests: [RequestKey: (count: CoreMetrics.Counter, duration: CoreMetrics.Timer)] = [:]
        var tokens: [ModelKey: [CoreMetrics.Counter]] = [:]
        var firstToken: [ModelKey: CoreMetrics.Timer] = [:]
    }

    enum Name {
        static let requests = "aggregator_requests_total"
        static let duration = "aggregator_request_duration_seconds"
        static let overhead = "aggregator_overhead_seconds"
        static let timeToFirstToken = "aggregator_time_to_first_token_seconds"
        static let upstreamErrors = "aggregator_upstream_errors_total"
        static let fallbacks = "aggregator_fallbacks_total"
        static let tokens = "aggregator_tokens_total"
        static let inflight = "aggregator_inflight_requests"
        static let usagePending = "aggregator_usage_rows_pending"
        static let usageWritten = "aggregator_usage_rows_written_total"
        static let jobs = "aggregator_jobs_total"
        static let queueDepth = "aggregator_job_queue_depth"
        static let limitRejections = "aggregator_limit_rejections_total"
    }

    init(directory: Directory) {
        self.directory = directory
        var factory = PrometheusMetricsFactory(registry: registry)
        func seconds(_ values: [Double]) -> [Duration] { values.map { .nanoseconds(Int64(($0 * 1e9).rounded())) } }
        // A whole generation: a fraction of a second for a short answer, minutes for a long stream.
        factory.durationHistogramBuckets[Name.duration] = seconds([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300])
        // The gateway's own time: tenths of a millisecond when all is well, up to a second when it is not.
        factory.durationHistogramBuckets[Name.overhead] = seconds([
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        ])
        // First token: a model's prompt processing, from tens of milliseconds to tens of seconds.
        factory.durationHistogramBuckets[Name.timeToFirstToken] = seconds([0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60])
        self.factory = factory
        // Series whose every label value is known up front start at zero, so rates and alerts work from the start.
        for status in ["completed", "failed", "cancelled", "retried"] {
            _ = Counter(label: Name.jobs, dimensions: [("status", status)], factory: factory)
        }
        for limit in ["rpm", "tpm", "daily_budget", "monthly_budget"] {
            _ = Counter(label: Name.limitRejections, dimensions: [("limit", limit)], factory: factory)
        }
        var inflight: [Operation: CoreMetrics.Meter] = [:]
        var overhead: [String: CoreMetrics.Timer] = [:]
        for operation in Operation.allCases {
            inflight[operation] = Meter(label: Name.inflight, dimensions: [("operation", operation.rawValue)], factory: factory)
            inflight[operation]?.set(0)
            for stream in [false, true] {
                overhead["\(operation.rawValue) \(stream)"] = Timer(
                    label: Name.overhead, dimensions: [("operation", operation.rawValue), ("stream", stream ? "true" : "false")], factory: factory)
            }
        }
        inflightMeters = inflight
        overheadTimers = overhead
        Counter(label: Name.usageWritten, factory: factory).increment(by: 0)
    }

    enum Operation: String, CaseIterable, Sendable {
        case chat, messages, stream, graphql
    }

    /// The `model` label: the model itself when the price table prices it (exactly, by prefix or by the
    /// provider's default) or it is a route alias, else `other`.
    func modelLabel(provider: String?, model: String?) -> String {
        guard let model, !model.isEmpty else { return "other" }
        if let provider, directory.prices.price(provider: provider, model: model) != nil { return model }
        if directory.routes[model] != nil { return model }
        return "other"
    }

    func requestFinished(_ operation: Operation, provider: String?, model: String?, stream: Bool, status: Int, duration: Duration) {
        let provider = provider ?? "none"
        let key = RequestKey(operation: operation, provider: provider, model: modelLabel(provider: provider, model: model), stream: stream, status: status)
        let handles = series.withLock { series in
            if let known = series.requests[key] { return known }
            let common = [("operation", operation.rawValue), ("provider", provider), ("model", key.model), ("stream", stream ? "true" : "false")]
            let made = (
                count: Counter(label: Name.requests, dimensions: common + [("status", String(status))], factory: factory),
                duration: Timer(label: Name.duration, dimensions: common, factory: factory)
            )
            series.requests[key] = made
            return made
        }
        handles.count.increment()
        handles.duration.recordNanoseconds(duration.nanoseconds)
    }

    func overhead(_ operation: Operation, stream: Bool, _ duration: Duration) {
        overheadTimers["\(operation.rawValue) \(stream)"]?.recordNanoseconds(duration.nanoseconds)
    }

    func timeToFirstToken(provider: String, model: String, _ duration: Duration) {
        let key = ModelKey(provider: provider, model: modelLabel(provider: provider, model: model))
        let timer = series.withLock { series in
            if let known = series.firstToken[key] { return known }
            let made = Timer(label: Name.timeToFirstToken, dimensions: [("provider", provider), ("model", key.model)], factory: factory)
            series.firstToken[key] = made
            return made
        }
        timer.recordNanoseconds(duration.nanoseconds)
    }

    func upstreamError(provider: String, _ error: UpstreamError) {
        Counter(label: Name.upstreamErrors, dimensions: [("provider", provider), ("kind", Self.kind(of: error))], factory: factory).increment()
    }

    func fallback(from: String, to: String) {
        Counter(label: Name.fallbacks, dimensions: [("from_provider", from), ("to_provider", to)], factory: factory).increment()
    }

    func tokens(provider: String, model: String, _ counts: TokenCounts) {
        let key = ModelKey(provider: provider, model: modelLabel(provider: provider, model: model))
        let counters = series.withLock { series in
            if let known = series.tokens[key] { return known }
            let made = ["input", "output", "cache_read", "cache_write"].map { type in
                Counter(label: Name.tokens, dimensions: [("provider", provider), ("model", key.model), ("type", type)], factory: factory)
            }
            series.tokens[key] = made
            return made
        }
        for (counter, count) in zip(counters, [counts.tokensIn, counts.tokensOut, counts.cacheRead, counts.cacheWrite]) where count > 0 {
            counter.increment(by: Int64(count))
        }
    }

    func inflight(_ operation: Operation, by delta: Int) {
        guard let meter = inflightMeters[operation] else { return }
        if delta >= 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    func usageRowsWritten(_ count: Int) {
        Counter(label: Name.usageWritten, factory: factory).increment(by: Int64(count))
    }

    func jobFinished(_ status: JobStatus) {
        Counter(label: Name.jobs, dimensions: [("status", status.rawValue)], factory: factory).increment()
    }

    /// A request refused by the tenant's limits (SPEC §16), by the limit that refused it.
    func limitRejected(_ refusal: GatewayError) {
        let limit: String? =
            switch (refusal.body.type, refusal.body.message.contains("daily")) {
            case ("requests", _): "rpm"
            case ("tokens", _): "tpm"
            case ("insufficient_quota", true): "daily_budget"
            case ("insufficient_quota", false): "monthly_budget"
            default: nil
            }
        guard let limit else { return }
        Counter(label: Name.limitRejections, dimensions: [("limit", limit)], factory: factory).increment()
    }

    /// A failed attempt: `retried` when the job goes back to pending, `failed` when it had no attempts left.
    func jobRetriedOrFailed(_ status: JobStatus) {
        Counter(label: Name.jobs, dimensions: [("status", status == .pending ? "retried" : status.rawValue)], factory: factory).increment()
    }

    /// The text exposition, with the gauges read now.
    func exposition(pendingUsageRows: Int, queueDepth: Int?) -> [UInt8] {
        Meter(label: Name.usagePending, factory: factory).set(Double(pendingUsageRows))
        if let queueDepth { Meter(label: Name.queueDepth, factory: factory).set(Double(queueDepth)) }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }

    static func kind(of error: UpstreamError) -> String {
        switch error {
        case .timeout: "timeout"
        case .connection: "connection"
        case .status(429, _, _, _, _, _): "rate_limited"
        case .status(let status, _, _, _, _, _) where status == 503 || status == 529: "overloaded"
        case .status(let status, _, _, _, _, _) where status >= 500: "status_5xx"
        case .status: "status_4xx"
        case .protocolError, .inStream: "stream_cut"
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
