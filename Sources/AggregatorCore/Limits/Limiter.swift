import AggregatorWire
import Foundation

/// What a request is expected to use, reserved against a tenant's limits before it goes upstream (SPEC §16).
public struct LimitEstimate: Sendable, Hashable {
    /// Input plus output tokens.
    public var tokens: Int
    public var cost: Money

    public init(tokens: Int, cost: Money) {
        self.tokens = tokens
        self.cost = cost
    }
}

/// A tenant's counters in the windows open now (`limitStatus`).
public struct LimitUsage: Sendable, Hashable {
    public var requestsThisMinute: Int
    public var tokensThisMinute: Int
    public var spentToday: Money
    public var spentThisMonth: Money

    public init(requestsThisMinute: Int = 0, tokensThisMinute: Int = 0, spentToday: Money = .zero, spentThisMonth: Money = .zero) {
        self.requestsThisMinute = requestsThisMinute
        self.tokensThisMinute = tokensThisMinute
        self.spentToday = spentToday
        self.spentThisMonth = spentThisMonth
    }
}

/// A reservation that fit: what was reserved, and the `x-ratelimit-*` headers of the answer.
public struct LimitTicket: Sendable, Hashable {
    public var key: String
    public var headers: [(String, String)] { headerPairs.map { ($0.name, $0.value) } }
    var headerPairs: [HeaderPair]

    struct HeaderPair: Sendable, Hashable {
        var name: String
        var value: String
    }

    public init(key: String, headers: [(String, String)]) {
        self.key = key
        self.headerPairs = headers.map { HeaderPair(name: $0.0, value: $0.1) }
    }

    /// OpenAI's `x-ratelimit-*` headers for the limits the tenant has, counting this request: `requests` and `tokens`
    /// used in the minute, which resets in `reset` seconds.
    public static func headers(_ limits: TenantLimits, requests: Int, tokens: Int, reset: Double) -> [(String, String)] {
        var out: [(String, String)] = []
        let resetText = LimitRefusal.goDuration(reset)
        if let rpm = limits.requestsPerMinute {
            out += [
                ("x-ratelimit-limit-requests", "\(rpm)"), ("x-ratelimit-remaining-requests", "\(max(0, rpm - requests))"),
                ("x-ratelimit-reset-requests", resetText),
            ]
        }
        if let tpm = limits.tokensPerMinute {
            out += [
                ("x-ratelimit-limit-tokens", "\(tpm)"), ("x-ratelimit-remaining-tokens", "\(max(0, tpm - tokens))"),
                ("x-ratelimit-reset-tokens", resetText),
            ]
        }
        return out
    }
}

/// Per-tenant rate limits and budgets as hard caps: one atomic reservation before each generation, settled once
/// with what was actually used when it ends, however it ends (SPEC §16).
public protocol Limiter: Sendable {
    /// Reserves `estimate` (and one request) under `key` against every limit `tenant` has; throws the refusal
    /// (`GatewayError`, 429 or 503) with no side effect when any does not fit. Nil when the tenant has no limits.
    func reserve(key: String, tenant: Tenant, estimate: LimitEstimate) async throws -> LimitTicket?
    /// Replaces the reservation under `key` (of `tenantID`) by what was used; a second settle of the same key changes
    /// nothing.
    func settle(key: String, tenantID: UUID, tokens: Int, cost: Money) async
    /// The tenant's counters now.
    func usage(of tenant: Tenant) async throws -> LimitUsage
}

/// UTC windows: the minute, the day and the month a moment falls in.
public struct LimitWindows: Sendable, Hashable {
    public var minute: Int64
    public var day: Int64
    public var month: Int64
    /// Seconds until the minute, the day and the month end.
    public var minuteLeft: Double
    public var dayLeft: Double
    public var monthLeft: Double

    public init(_ date: Date) {
        let t = date.timeIntervalSince1970
        minute = Int64((t / 60).rounded(.down))
        day = Int64((t / 86_400).rounded(.down))
        let (year, month) = Self.civil(day: day)
        self.month = year * 12 + month - 1
        minuteLeft = Double(minute + 1) * 60 - t
        dayLeft = Double(day + 1) * 86_400 - t
        let next = month == 12 ? Self.days(year: year + 1, month: 1) : Self.days(year: year, month: month + 1)
        monthLeft = Double(next) * 86_400 - t
    }

    /// The first instant of the month `date` falls in.
    public static func monthStart(_ date: Date) -> Date {
        let (year, month) = civil(day: Int64((date.timeIntervalSince1970 / 86_400).rounded(.down)))
        return Date(timeIntervalSince1970: Double(days(year: year, month: month)) * 86_400)
    }

    /// The year and month (1–12) of a day counted from 1970-01-01, in the proleptic Gregorian calendar (Howard
    /// Hinnant's `civil_from_days`; plain arithmetic, where Foundation's `Calendar` costs microseconds a call).
    static func civil(day: Int64) -> (year: Int64, month: Int64) {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month)
    }

    /// Days from 1970-01-01 to the first of `month` (1–12) of `year` (`days_from_civil`).
    static func days(year: Int64, month: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension GatewayError {
    /// The same error with `headers` added (the `x-ratelimit-*` of a refusal).
    public func adding(_ headers: [(String, String)]) -> GatewayError {
        var copy = self
        for (name, value) in headers { copy.headers[name] = value }
        return copy
    }
}

/// SPEC §5 and §16's refusals, in OpenAI's shapes, with the headers the OpenAI SDKs read.
public enum LimitRefusal {
    /// Over the RPM or TPM limit: retried by the SDKs after `retry-after`.
    public static func rate(_ kind: String, limit: Int, used: Int, requested: Int, retryAfter: Double) -> GatewayError {
        let seconds = max(1, Int(retryAfter.rounded(.up)))
        let what = kind == "requests" ? "requests per min (RPM)" : "tokens per min (TPM)"
        return GatewayError(
            status: 429,
            body: .init(
                message: "Rate limit reached on \(what): Limit \(limit), Used \(used), Requested \(requested). Please try again in \(seconds)s.",
                type: kind, code: "rate_limit_exceeded"),
            headers: ["retry-after": "\(seconds)", "retry-after-ms": "\(Int((retryAfter * 1000).rounded(.up)))", "x-should-retry": "true"])
    }

    /// A request larger than the limit itself: it can never fit, so it is not worth retrying.
    public static func neverFits(limit: Int, requested: Int) -> GatewayError {
        GatewayError(
            status: 429,
            body: .init(
                message: "Request too large for tokens per min (TPM): Limit \(limit), Requested \(requested).", type: "tokens",
                code: "rate_limit_exceeded"),
            headers: ["x-should-retry": "false"])
    }

    /// Over the daily or monthly budget: not retried (it resets with the window).
    public static func budget(_ period: String, budget: Money, retryAfter: Double) -> GatewayError {
        GatewayError(
            status: 429,
            body: .init(
                message: "You exceeded your \(period) budget of \(budget.description) USD; it resets at the start of the next UTC \(period == "daily" ? "day" : "month").",
                type: "insufficient_quota", code: "insufficient_quota"),
            headers: ["x-should-retry": "false", "retry-after": "\(max(1, Int(retryAfter.rounded(.up))))"])
    }

    public static let unavailable = GatewayError(
        status: 503,
        body: .init(message: "Limits cannot be checked right now; try again shortly.", type: "api_error", code: "limits_unavailable"),
        headers: ["retry-after": "1"])

    /// `1m0s`, `12.5s`, `850ms`: Go durations, as OpenAI's `x-ratelimit-reset-*` headers are (milliseconds rounded up).
    public static func goDuration(_ seconds: Double) -> String {
        let ms = max(0, Int((seconds * 1000).rounded(.up)))
        if ms < 1000 { return "\(ms)ms" }
        let (minutes, rest) = ms.quotientAndRemainder(dividingBy: 60_000)
        var fraction = ""
        if rest % 1000 != 0 {
            var digits = rest % 1000
            var width = 3
            while digits % 10 == 0 { (digits, width) = (digits / 10, width - 1) }
            let text = String(digits)
            fraction = "." + String(repeating: "0", count: width - text.count) + text
        }
        return (minutes > 0 ? "\(minutes)m" : "") + "\(rest / 1000)" + fraction + "s"
    }
}
