import Foundation
import Synchronization

/// Embedded mode's limiter: every tenant's counters in this process, checked and reserved under one lock with no
/// `await` in between, so concurrent requests can never both take the last room. Budgets are rebuilt from the store's
/// usage at start (`seed`), so a restart never resets them; the minute windows start empty.
public final class InProcessLimiter: Limiter {
    struct Reservation {
        var tenantID: UUID
        var windows: LimitWindows
        var tokens: Int
        var cost: Money
        var expires: Date
        /// False once it expired: its room was given back, and a late settle counts what was used.
        var holding = true
    }

    struct Counters {
        var minute: Int64 = 0
        var requests = 0
        var tokens = 0
        var day: Int64 = 0
        var spentToday = Money.zero
        var month: Int64 = 0
        var spentThisMonth = Money.zero

        /// Moves to the windows of `now`, emptying those that ended.
        mutating func roll(to now: LimitWindows) {
            if minute != now.minute { (minute, requests, tokens) = (now.minute, 0, 0) }
            if day != now.day { (day, spentToday) = (now.day, .zero) }
            if month != now.month { (month, spentThisMonth) = (now.month, .zero) }
        }
    }

    struct State {
        var counters: [UUID: Counters] = [:]
        var reservations: [String: Reservation] = [:]
    }

    private let state = Mutex(State())
    /// A reservation never settled (a bug, or a request that hung past every timeout) gives its room back after this;
    /// a settle that comes later still counts what was used (up to a day later).
    let reservationLifetime: TimeInterval
    let now: @Sendable () -> Date

    public init(reservationLifetime: TimeInterval = 3_600, now: @escaping @Sendable () -> Date = Date.init) {
        self.reservationLifetime = reservationLifetime
        self.now = now
    }

    /// Budgets spent so far this day and month, per tenant (from the store's usage rows).
    public func seed(spentToday: [UUID: Money], spentThisMonth: [UUID: Money]) {
        let windows = LimitWindows(now())
        state.withLock { s in
            for id in Set(spentToday.keys).union(spentThisMonth.keys) {
                var c = Counters(minute: windows.minute, day: windows.day, month: windows.month)
                c.spentToday = spentToday[id] ?? .zero
                c.spentThisMonth = spentThisMonth[id] ?? .zero
                s.counters[id] = c
            }
        }
    }

    public func reserve(key: String, tenant: Tenant, estimate: LimitEstimate) async throws -> LimitTicket? {
        let limits = tenant.limits
        guard !limits.isEmpty else { return nil }
        let date = now()
        let windows = LimitWindows(date)
        return try state.withLock { s -> LimitTicket in
            // Room held by reservations that will never be settled comes back.
            for (k, r) in s.reservations where r.expires < date { Self.expire(&s, key: k, r, at: date) }
            var c = s.counters[tenant.id] ?? Counters(minute: windows.minute, day: windows.day, month: windows.month)
            c.roll(to: windows)
            if let refusal = Self.refusal(limits, c, estimate: estimate, windows: windows) {
                // A refusal carries the tenant's `x-ratelimit-*` headers too, as every answer to it does.
                throw refusal.adding(LimitTicket.headers(limits, requests: c.requests, tokens: c.tokens, reset: windows.minuteLeft))
            }
            c.requests += 1
            c.tokens += estimate.tokens
            c.spentToday = c.spentToday + estimate.cost
            c.spentThisMonth = c.spentThisMonth + estimate.cost
            s.counters[tenant.id] = c
            s.reservations[key] = Reservation(
                tenantID: tenant.id, windows: windows, tokens: estimate.tokens, cost: estimate.cost, expires: date + reservationLifetime)
            return LimitTicket(
                key: key, headers: LimitTicket.headers(limits, requests: c.requests, tokens: c.tokens, reset: windows.minuteLeft))
        }
    }

    /// The first limit `estimate` (and one more request) would break, in the order RPM, TPM, day, month.
    static func refusal(_ limits: TenantLimits, _ c: Counters, estimate: LimitEstimate, windows: LimitWindows) -> GatewayError? {
        if let rpm = limits.requestsPerMinute, c.requests + 1 > rpm {
            return LimitRefusal.rate("requests", limit: rpm, used: c.requests, requested: 1, retryAfter: windows.minuteLeft)
        }
        if let tpm = limits.tokensPerMinute {
            if estimate.tokens > tpm { return LimitRefusal.neverFits(limit: tpm, requested: estimate.tokens) }
            if c.tokens + estimate.tokens > tpm {
                return LimitRefusal.rate("tokens", limit: tpm, used: c.tokens, requested: estimate.tokens, retryAfter: windows.minuteLeft)
            }
        }
        if let budget = limits.dailyBudget, c.spentToday + estimate.cost > budget {
            return LimitRefusal.budget("daily", budget: budget, retryAfter: windows.dayLeft)
        }
        if let budget = limits.monthlyBudget, c.spentThisMonth + estimate.cost > budget {
            return LimitRefusal.budget("monthly", budget: budget, retryAfter: windows.monthLeft)
        }
        return nil
    }

    public func settle(key: String, tenantID: UUID, tokens: Int, cost: Money) async {
        state.withLock { s in
            guard let r = s.reservations.removeValue(forKey: key), var c = s.counters[r.tenantID] else { return }
            // The actual replaces the reservation in the windows the reservation was made in, when they are still open.
            if c.minute == r.windows.minute { c.tokens = max(0, c.tokens - r.tokens + tokens) }
            if c.day == r.windows.day { c.spentToday = max(.zero, c.spentToday - r.cost + cost) }
            if c.month == r.windows.month { c.spentThisMonth = max(.zero, c.spentThisMonth - r.cost + cost) }
            s.counters[r.tenantID] = c
        }
    }

    public func usage(of tenant: Tenant) async throws -> LimitUsage {
        let date = now()
        let windows = LimitWindows(date)
        return state.withLock { s in
            for (k, r) in s.reservations where r.expires < date { Self.expire(&s, key: k, r, at: date) }
            var c = s.counters[tenant.id] ?? Counters(minute: windows.minute, day: windows.day, month: windows.month)
            c.roll(to: windows)
            return LimitUsage(requestsThisMinute: c.requests, tokensThisMinute: c.tokens, spentToday: c.spentToday, spentThisMonth: c.spentThisMonth)
        }
    }

    /// Gives an expired reservation's room back and keeps a marker holding nothing for a day; drops an expired marker.
    private static func expire(_ s: inout State, key: String, _ r: Reservation, at date: Date) {
        guard r.holding else {
            s.reservations[key] = nil
            return
        }
        if var c = s.counters[r.tenantID] {
            if c.minute == r.windows.minute { c.tokens = max(0, c.tokens - r.tokens) }
            if c.day == r.windows.day { c.spentToday = max(.zero, c.spentToday - r.cost) }
            if c.month == r.windows.month { c.spentThisMonth = max(.zero, c.spentThisMonth - r.cost) }
            s.counters[r.tenantID] = c
        }
        s.reservations[key] = Reservation(tenantID: r.tenantID, windows: r.windows, tokens: 0, cost: .zero, expires: date + 86_400, holding: false)
    }
}
