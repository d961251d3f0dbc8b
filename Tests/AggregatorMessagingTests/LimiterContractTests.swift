import AggregatorCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import AggregatorMessaging

/// The two limiters of SPEC §16 under one contract, on a clock the test moves: embedded mode's (in process) and scaled
/// mode's (Lua scripts on the shared test Redis, reading the time from a key instead of Redis's clock).
@Suite("Limiter contract")
struct LimiterContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case inProcess, redis
        var testDescription: String { rawValue }
    }

    /// A limiter, its clock, and (Redis) a second instance on the same keys.
    struct Harness: Sendable {
        let limiter: any Limiter
        let other: (any Limiter)?
        let setClock: @Sendable (Date) async throws -> Void
    }

    static func withLimiter(_ kind: Kind, lifetime: Int = 3_600, _ body: (Harness) async throws -> Void) async throws {
        switch kind {
        case .inProcess:
            let clock = Mutex(Date())
            let limiter = InProcessLimiter(reservationLifetime: TimeInterval(lifetime), now: { clock.withLock { $0 } })
            try await body(Harness(limiter: limiter, other: nil, setClock: { date in clock.withLock { $0 = date } }))
        case .redis:
            try await withClient(try sharedRedisConfiguration()) { client in
                let prefix = uniqueKey("limits")
                let clockKey = prefix + ":clock"
                func make() -> RedisLimiter {
                    RedisLimiter(
                        client: client, prefix: prefix, reservationLifetime: .seconds(lifetime), logger: Logger(label: "limits"),
                        clockKey: clockKey, spent: { _, _, _ in (.zero, .zero) })
                }
                try await body(
                    Harness(
                        limiter: make(), other: make(),
                        setClock: { date in
                            _ = try await client.send("SET", .init(clockKey), .init(Int64((date.timeIntervalSince1970 * 1000).rounded())))
                        }))
            }
        }
    }

    static func tenant(_ limits: TenantLimits) -> Tenant {
        Tenant(id: UUID(), name: "t", active: true, keyPrefix: "p", createdAt: Date(), updatedAt: Date(), limits: limits)
    }

    static func usd(_ text: String) -> Money { try! Money(parsing: text) }

    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)!
    }

    /// The refusal's `type` (`requests`, `tokens`, `insufficient_quota`) and the period its message names, or nil when
    /// the reservation fit.
    static func refusal(_ limiter: any Limiter, _ key: String, _ tenant: Tenant, tokens: Int = 1, cost: String) async -> String? {
        do {
            _ = try await limiter.reserve(key: key, tenant: tenant, estimate: LimitEstimate(tokens: tokens, cost: usd(cost)))
            return nil
        } catch let error as GatewayError {
            let period = error.body.message.contains("daily") ? " daily" : error.body.message.contains("monthly") ? " monthly" : ""
            return (error.body.type ?? "?") + period
        } catch {
            return "\(error)"
        }
    }

    @Test("a second settle of a reservation changes nothing", arguments: Kind.allCases)
    func duplicateSettlesCountOnce(kind: Kind) async throws {
        try await Self.withLimiter(kind) { h in
            try await h.setClock(Self.at("2026-03-10T12:00:01.000Z"))
            let t = Self.tenant(TenantLimits(tokensPerMinute: 1_000, dailyBudget: Self.usd("10")))
            #expect(await Self.refusal(h.limiter, "a", t, tokens: 100, cost: "1") == nil)
            #expect(await Self.refusal(h.limiter, "b", t, tokens: 200, cost: "2") == nil)
            var u = try await h.limiter.usage(of: t)
            #expect(u.tokensThisMinute == 300 && u.spentToday == Self.usd("3") && u.requestsThisMinute == 2)
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 30, cost: Self.usd("0.3"))
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 30, cost: Self.usd("0.3"))
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 70, cost: Self.usd("0.7"))
            u = try await h.limiter.usage(of: t)
            #expect(u.tokensThisMinute == 230 && u.spentToday == Self.usd("2.3") && u.spentThisMonth == Self.usd("2.3"))
            // From the other instance too (scaled mode: a retry that reached another instance).
            await (h.other ?? h.limiter).settle(key: "a", tenantID: t.id, tokens: 999, cost: Self.usd("9"))
            await h.limiter.settle(key: "b", tenantID: t.id, tokens: 20, cost: Self.usd("0.2"))
            await h.limiter.settle(key: "b", tenantID: t.id, tokens: 20, cost: Self.usd("0.2"))
            u = try await h.limiter.usage(of: t)
            #expect(u.tokensThisMinute == 50 && u.spentToday == Self.usd("0.5") && u.requestsThisMinute == 2)
        }
    }

    @Test("a refusal carries the tenant's x-ratelimit-* headers, as every answer to it does", arguments: Kind.allCases)
    func refusalHeaders(kind: Kind) async throws {
        try await Self.withLimiter(kind) { h in
            try await h.setClock(Self.at("2026-03-10T12:00:20.000Z"))
            let t = Self.tenant(TenantLimits(requestsPerMinute: 2, tokensPerMinute: 100, dailyBudget: Self.usd("1")))
            let ticket = try await h.limiter.reserve(key: "a", tenant: t, estimate: LimitEstimate(tokens: 30, cost: Self.usd("0.5")))
            #expect(ticket.map { Dictionary(uniqueKeysWithValues: $0.headers) } == [
                "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "40s",
                "x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "70", "x-ratelimit-reset-tokens": "40s",
            ])
            for (key, tokens, cost, type, retryAfter) in [("b", 10, "0.6", "insufficient_quota", "43180"), ("c", 80, "0", "tokens", "40")] {
                do {
                    _ = try await h.limiter.reserve(key: key, tenant: t, estimate: LimitEstimate(tokens: tokens, cost: Self.usd(cost)))
                    Issue.record("\(key) fit")
                } catch let refusal as GatewayError {
                    #expect(refusal.status == 429 && refusal.body.type == type && refusal.headers["retry-after"] == retryAfter)
                    #expect(refusal.headers["x-ratelimit-remaining-requests"] == "1" && refusal.headers["x-ratelimit-remaining-tokens"] == "70")
                    #expect(refusal.headers["x-ratelimit-limit-tokens"] == "100" && refusal.headers["x-ratelimit-reset-requests"] == "40s")
                }
            }
            _ = try await h.limiter.reserve(key: "d", tenant: t, estimate: LimitEstimate(tokens: 10, cost: .zero))
            do {
                _ = try await h.limiter.reserve(key: "e", tenant: t, estimate: LimitEstimate(tokens: 1, cost: .zero))
                Issue.record("e fit")
            } catch let refusal as GatewayError {
                #expect(refusal.body.type == "requests" && refusal.headers["x-ratelimit-remaining-requests"] == "0")
                #expect(refusal.headers["x-ratelimit-remaining-tokens"] == "60")
            }
        }
    }

    @Test("windows turn over at UTC midnight and on the first of the month, leap day included", arguments: Kind.allCases)
    func utcBoundaries(kind: Kind) async throws {
        try await Self.withLimiter(kind) { h in
            let t = Self.tenant(TenantLimits(tokensPerMinute: 1_000, dailyBudget: Self.usd("1"), monthlyBudget: Self.usd("1.5")))
            try await h.setClock(Self.at("2028-02-28T23:59:59.500Z"))
            #expect(await Self.refusal(h.limiter, "a", t, tokens: 100, cost: "0.9") == nil)
            #expect(await Self.refusal(h.limiter, "b", t, cost: "0.2") == "insufficient_quota daily")
            // The last millisecond of the day is still the day.
            try await h.setClock(Self.at("2028-02-28T23:59:59.999Z"))
            #expect(await Self.refusal(h.limiter, "b", t, cost: "0.2") == "insufficient_quota daily")
            // Midnight: a new day (2028 is a leap year: the 29th, same month), a new minute.
            try await h.setClock(Self.at("2028-02-29T00:00:00.000Z"))
            var u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == .zero && u.spentThisMonth == Self.usd("0.9") && u.tokensThisMinute == 0 && u.requestsThisMinute == 0)
            #expect(await Self.refusal(h.limiter, "c", t, tokens: 10, cost: "0.7") == "insufficient_quota monthly")
            #expect(await Self.refusal(h.limiter, "c", t, tokens: 10, cost: "0.5") == nil)
            // Yesterday's reservation settles: the month's spend takes its actual, today's is untouched.
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 40, cost: Self.usd("0.4"))
            u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == Self.usd("0.5") && u.spentThisMonth == Self.usd("0.9") && u.tokensThisMinute == 10)
            await h.limiter.settle(key: "c", tenantID: t.id, tokens: 10, cost: Self.usd("0.5"))
            // The first of March: a new month.
            try await h.setClock(Self.at("2028-02-29T23:59:59.999Z"))
            let late = try await h.limiter.usage(of: t)
            #expect(late.spentThisMonth == Self.usd("0.9"), "\(late)")
            try await h.setClock(Self.at("2028-03-01T00:00:00.000Z"))
            u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == .zero && u.spentThisMonth == .zero)
            #expect(await Self.refusal(h.limiter, "d", t, cost: "0.7") == nil)
            // New Year: a new day and a new month at once.
            try await h.setClock(Self.at("2028-12-31T23:59:59.000Z"))
            #expect(await Self.refusal(h.limiter, "e", t, cost: "1") == nil)
            #expect(await Self.refusal(h.limiter, "f", t, cost: "0.1") == "insufficient_quota daily")
            try await h.setClock(Self.at("2029-01-01T00:00:00.000Z"))
            #expect(await Self.refusal(h.limiter, "f", t, cost: "1") == nil)
            u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == Self.usd("1") && u.spentThisMonth == Self.usd("1"))
        }
    }

    @Test("an expired reservation gives its room back; a settle after that counts what was used, once", arguments: Kind.allCases)
    func expiryAndALateSettle(kind: Kind) async throws {
        try await Self.withLimiter(kind, lifetime: 10) { h in
            let t = Self.tenant(TenantLimits(tokensPerMinute: 1_000, dailyBudget: Self.usd("1.5")))
            try await h.setClock(Self.at("2026-03-10T12:00:01.000Z"))
            #expect(await Self.refusal(h.limiter, "a", t, tokens: 100, cost: "1") == nil)
            #expect(await Self.refusal(h.limiter, "b", t, tokens: 100, cost: "1") == "insufficient_quota daily")
            try await h.setClock(Self.at("2026-03-10T12:00:10.900Z"))
            #expect(try await h.limiter.usage(of: t).spentToday == Self.usd("1"), "not yet expired")
            try await h.setClock(Self.at("2026-03-10T12:00:11.100Z"))
            var u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == .zero && u.tokensThisMinute == 0 && u.requestsThisMinute == 1)
            #expect(await Self.refusal(h.limiter, "b", t, tokens: 100, cost: "1") == nil)
            // The first request ends after all: what it used counts, once.
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 40, cost: Self.usd("0.4"))
            await h.limiter.settle(key: "a", tenantID: t.id, tokens: 40, cost: Self.usd("0.4"))
            u = try await h.limiter.usage(of: t)
            #expect(u.spentToday == Self.usd("1.4") && u.tokensThisMinute == 140 && u.requestsThisMinute == 2)
        }
    }

    @Test("scaled: a reservation its instance renews outlives the lifetime; one of a dead instance expires")
    func renewal() async throws {
        try await Self.withLimiter(.redis, lifetime: 10) { h in
            let live = try #require(h.limiter as? RedisLimiter)
            let dead = try #require(h.other as? RedisLimiter)
            let t = Self.tenant(TenantLimits(tokensPerMinute: 1_000))
            try await h.setClock(Self.at("2026-03-10T12:00:01.000Z"))
            #expect(await Self.refusal(live, "stream", t, tokens: 100, cost: "0") == nil)
            #expect(await Self.refusal(dead, "killed", t, tokens: 300, cost: "0") == nil)
            for second in [8, 16, 24, 32] {
                try await h.setClock(Self.at("2026-03-10T12:00:\(second).000Z"))
                await live.renewHeld()  // what `run` does every third of the lifetime; the dead instance's `run` has stopped
                // The dead instance's reservation is renewed by nobody: it expires at 11 s.
                #expect(try await live.usage(of: t).tokensThisMinute == 400 - (second > 8 ? 300 : 0), "at \(second) s")
            }
            await live.settle(key: "stream", tenantID: t.id, tokens: 250, cost: .zero)
            #expect(try await live.usage(of: t).tokensThisMinute == 250)
        }
    }
}
