import AggregatorCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Scaled mode's limiter (SPEC §16): every instance's reservations in Redis, each checked and taken by one Lua script
/// on Redis's clock, so concurrent requests on any number of instances can never both take the last room.
///
/// Keys, per tenant under one hash tag (Cluster-safe): `…:m:<minute>` (requests, tokens), `…:d:<day>` and `…:mo:<month>`
/// (spent, in 1e-10 USD, plus `seeded`), `…:res` (open reservations) and `…:resx` (their expiry). Budget counters are a
/// cache of the store: when one is missing (a new day, or Redis lost its data) the script answers `SEED`, this side sums
/// the day's and the month's usage from the store, sets it if still missing, and asks again — so a Redis wipe never
/// resets a budget. The instance holding a reservation renews it every third of `reservationLifetime` while its
/// request runs (a stream of an hour keeps its room); one nobody renews (its instance died) expires after the lifetime
/// and gives its room back, leaving a marker for a day so that a settle arriving after all (an instance cut off from
/// Redis for longer than the lifetime) still counts what was used, once.
///
/// Redis unreachable: a tenant with a budget is refused with 503 (never let through unmetered); one with only rate
/// limits is checked by this instance alone against its share of the limits (the limit divided by the instances seen
/// alive lately).
public final class RedisLimiter: Limiter, Service {
    let client: RedisClient
    let prefix: String
    let logger: Logger
    /// Spend per tenant from the store: (today, this month), for seeding.
    let spent: @Sendable (_ tenant: UUID, _ dayStart: Date, _ monthStart: Date) async throws -> (Money, Money)
    let reservationLifetime: Duration
    let scripts: LimitScripts
    let fallback = InProcessLimiter()
    /// This instance's reservations not yet settled (key → tenant), renewed by `run`.
    private let held = Mutex<[String: UUID]>([:])
    private let instances = Mutex(1)
    /// When Redis last failed to answer: for a second after, requests do not wait on it again.
    private let unreachableAt = Mutex<ContinuousClock.Instant?>(nil)
    /// Each script's SHA1 once Redis loaded it (`EVALSHA` sends 40 bytes instead of the script).
    private let loaded = Mutex<[String: String]>([:])
    private let origin = UUID().uuidString.lowercased()

    /// `clockKey`, for tests only: the scripts read the time (Unix milliseconds) from this key instead of Redis's clock.
    public init(
        client: RedisClient, prefix: String = "agg", reservationLifetime: Duration = .seconds(60), logger: Logger,
        clockKey: String? = nil, spent: @escaping @Sendable (UUID, Date, Date) async throws -> (Money, Money)
    ) {
        self.client = client
        self.prefix = prefix
        self.reservationLifetime = reservationLifetime
        self.scripts = LimitScripts(clockKey: clockKey)
        self.logger = logger
        self.spent = spent
    }

    /// Runs a script by its SHA1, loading it first (again after `NOSCRIPT`: Redis restarted or flushed its scripts).
    func eval(_ script: String, _ arguments: [RedisArgument]) async throws -> RESPValue {
        for _ in 0..<2 {
            let sha: String
            if let known = loaded.withLock({ $0[script] }) {
                sha = known
            } else {
                guard let loadedSHA = try await client.send("SCRIPT", "LOAD", .init(script)).string else { throw RedisError.protocolError("SCRIPT LOAD") }
                loaded.withLock { $0[script] = loadedSHA }
                sha = loadedSHA
            }
            do {
                return try await client.send(RedisCommand(["EVALSHA", .init(sha), 0] + arguments))
            } catch let error as RedisError where error.replyCode == "NOSCRIPT" {
                _ = loaded.withLock { $0.removeValue(forKey: script) }
            }
        }
        throw RedisError.protocolError("the limits script could not be loaded")
    }

    func base(_ tenant: UUID) -> String { "\(prefix):lim:{\(tenant.uuidString.lowercased())}" }

    public func reserve(key: String, tenant: Tenant, estimate: LimitEstimate) async throws -> LimitTicket? {
        let limits = tenant.limits
        guard !limits.isEmpty else { return nil }
        if let failed = unreachableAt.withLock({ $0 }), failed.duration(to: .now) < .seconds(1) {
            return try await reserveWithoutRedis(key: key, tenant: tenant, estimate: estimate, error: .connectionClosed)
        }
        for _ in 0..<3 {
            let reply: RESPValue
            do {
                reply = try await eval(
                    scripts.reserve,
                    [
                        .init(base(tenant.id)), .init(key), .init(estimate.tokens), .init(estimate.cost.units), .init(limits.requestsPerMinute ?? -1),
                        .init(limits.tokensPerMinute ?? -1), .init(limits.dailyBudget?.units ?? -1), .init(limits.monthlyBudget?.units ?? -1),
                        .init(reservationLifetime.wholeMilliseconds),
                    ])
            } catch let error as RedisError where error.replyCode == nil || error.replyCode == "LOADING" {
                unreachableAt.withLock { $0 = .now }
                return try await reserveWithoutRedis(key: key, tenant: tenant, estimate: estimate, error: error)
            } catch {
                logger.error("the limits script failed", metadata: ["error": "\(String(describing: error).prefix(500))"])
                throw LimitRefusal.unavailable
            }
            guard let parts = reply.array, let verdict = parts.first?.string else { throw LimitRefusal.unavailable }
            let numbers = parts.dropFirst().map { $0.int ?? 0 }
            switch verdict {
            case "OK":
                held.withLock { $0[key] = tenant.id }
                let (requests, tokens, msLeft) = (Int(numbers[0]), Int(numbers[1]), Double(numbers[2]) / 1000)
                return LimitTicket(key: key, headers: LimitTicket.headers(limits, requests: requests, tokens: tokens, reset: msLeft))
            case "SEED":
                try await seed(tenant.id, dayMs: numbers[0], monthStartMs: numbers[1])
            case "RPM", "TPM", "DAY", "MONTH" where numbers.count == 4:
                let (requests, tokens, minuteLeft, left) = (Int(numbers[0]), Int(numbers[1]), Double(numbers[2]) / 1000, Double(numbers[3]) / 1000)
                let refusal: GatewayError
                switch verdict {
                case "RPM": refusal = LimitRefusal.rate("requests", limit: limits.requestsPerMinute ?? 0, used: requests, requested: 1, retryAfter: left)
                case "TPM":
                    let tpm = limits.tokensPerMinute ?? 0
                    refusal =
                        estimate.tokens > tpm
                        ? LimitRefusal.neverFits(limit: tpm, requested: estimate.tokens)
                        : LimitRefusal.rate("tokens", limit: tpm, used: tokens, requested: estimate.tokens, retryAfter: left)
                case "DAY": refusal = LimitRefusal.budget("daily", budget: limits.dailyBudget ?? .zero, retryAfter: left)
                default: refusal = LimitRefusal.budget("monthly", budget: limits.monthlyBudget ?? .zero, retryAfter: left)
                }
                // A refusal carries the tenant's `x-ratelimit-*` headers too, as every answer to it does.
                throw refusal.adding(LimitTicket.headers(limits, requests: requests, tokens: tokens, reset: minuteLeft))
            default:
                throw LimitRefusal.unavailable
            }
        }
        throw LimitRefusal.unavailable
    }

    /// Sets the day's and the month's spend from the store when Redis does not have them (the first to set wins).
    func seed(_ tenant: UUID, dayMs: Int64, monthStartMs: Int64) async throws {
        let dayStart = Date(timeIntervalSince1970: Double(dayMs) / 1000)
        let monthStart = Date(timeIntervalSince1970: Double(monthStartMs) / 1000)
        let (today, month) = try await spent(tenant, dayStart, monthStart)
        _ = try await eval(LimitScripts.seed, [.init(base(tenant)), .init(dayMs / 86_400_000), .init(monthStartMs), .init(today.units), .init(month.units)])
    }

    func reserveWithoutRedis(key: String, tenant: Tenant, estimate: LimitEstimate, error: RedisError) async throws -> LimitTicket? {
        if tenant.limits.hasBudget {
            logger.warning("Redis unreachable: refusing a budgeted tenant's request", metadata: ["error": "\(error)"])
            throw LimitRefusal.unavailable
        }
        // Rate limits only: this instance's share, checked here.
        let share = max(1, instances.withLock { $0 })
        var local = tenant
        local.limits.requestsPerMinute = tenant.limits.requestsPerMinute.map { max(1, $0 / share) }
        local.limits.tokensPerMinute = tenant.limits.tokensPerMinute.map { max(1, $0 / share) }
        return try await fallback.reserve(key: "local:" + key, tenant: local, estimate: estimate)
    }

    public func settle(key: String, tenantID: UUID, tokens: Int, cost: Money) async {
        await fallback.settle(key: "local:" + key, tenantID: tenantID, tokens: tokens, cost: cost)
        held.withLock { $0[key] = nil }
        do {
            _ = try await eval(scripts.settle, [.init(base(tenantID)), .init(key), .init(tokens), .init(cost.units)])
        } catch {
            // The reservation expires and gives its room back; the actual spend of this request is not counted in Redis.
            logger.warning("settling a reservation in Redis failed", metadata: ["error": "\(error)"])
        }
    }

    public func usage(of tenant: Tenant) async throws -> LimitUsage {
        let reply = try await eval(scripts.usage, [.init(base(tenant.id))])
        let n = (reply.array ?? []).map { $0.int ?? 0 }
        guard n.count == 4 else { return LimitUsage() }
        return LimitUsage(
            requestsThisMinute: Int(n[0]), tokensThisMinute: Int(n[1]), spentToday: Money(units: n[2]), spentThisMonth: Money(units: n[3]))
    }

    /// Counts the instances alive (each says so every few seconds), for the share of the rate limits while Redis is
    /// down, and renews this instance's reservations every third of their lifetime.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.countInstances() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.reservationLifetime / 3)
                        await self.renewHeld()
                    }
                }
            }
        }
    }

    /// Pushes back the expiry of every reservation this instance holds: one script per tenant with any.
    func renewHeld() async {
        let byTenant = Dictionary(grouping: held.withLock { $0 }, by: \.value)
        for (tenant, entries) in byTenant {
            do {
                _ = try await eval(
                    scripts.renew, [.init(base(tenant)), .init(reservationLifetime.wholeMilliseconds)] + entries.map { .init($0.key) })
            } catch {
                logger.warning("renewing reservations in Redis failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func countInstances() async {
        let key = "\(prefix):lim:instances"
        while !Task.isCancelled {
            if let reply = try? await client.send(
                "EVAL",
                """
                local t = redis.call('TIME')
                local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
                redis.call('ZADD', KEYS[1], now, ARGV[1])
                redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 15000)
                redis.call('PEXPIRE', KEYS[1], 60000)
                return redis.call('ZCARD', KEYS[1])
                """, 1, .init(key), .init(origin)), let count = reply.int {
                instances.withLock { $0 = max(1, Int(count)) }
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

/// The limiter's Lua scripts, each starting from the time: Redis's clock, or (tests) a key holding Unix milliseconds.
struct LimitScripts {
    let reserve: String
    let settle: String
    let usage: String
    let renew: String

    init(clockKey: String?) {
        let clock =
            if let clockKey {
                "local now = tonumber(redis.call('GET', '\(clockKey)'))"
            } else {
                "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            }
        func script(_ body: String) -> String { clock + "\n" + Self.prelude + "\n" + body }
        reserve = script(Self.reserveBody)
        settle = script(Self.settleBody)
        usage = script(Self.usageBody)
        renew = script(Self.renewBody)
    }

    /// Shared by the scripts: the UTC windows of now, and giving expired reservations' room back.
    static let prelude = """
        local base = ARGV[1]
        local minute = math.floor(now / 60000)
        local day = math.floor(now / 86400000)
        -- The calendar month of `day` (days since 1970-01-01), after Howard Hinnant's civil_from_days.
        local z = day + 719468
        local era = math.floor(z / 146097)
        local doe = z - era * 146097
        local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
        local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
        local mp = math.floor((5 * doy + 2) / 153)
        local dom = doy - math.floor((153 * mp + 2) / 5) + 1
        local monthStart = (day - dom + 1) * 86400000
        local m = mp < 10 and mp + 3 or mp - 9
        local y = yoe + era * 400 + (m <= 2 and 1 or 0)
        local nm = m == 12 and 1 or m + 1
        local ny = m == 12 and y + 1 or y
        -- Days from 1970-01-01 to the first of the next month (days_from_civil).
        local yy = nm <= 2 and ny - 1 or ny
        local era2 = math.floor(yy / 400)
        local yoe2 = yy - era2 * 400
        local doy2 = math.floor((153 * (nm > 2 and nm - 3 or nm + 9) + 2) / 5)
        local doe2 = yoe2 * 365 + math.floor(yoe2 / 4) - math.floor(yoe2 / 100) + doy2
        local nextMonthStart = (era2 * 146097 + doe2 - 719468) * 86400000
        local monthKey = base .. ':mo:' .. monthStart
        local dayKey = base .. ':d:' .. day
        local minuteKey = base .. ':m:' .. minute
        local resKey = base .. ':res'
        local resxKey = base .. ':resx'
        local function giveBack(id, fields, tokens, cost)
            local parts = {}
            for p in string.gmatch(fields, '[^|]+') do parts[#parts + 1] = p end
            local mk, dk, ok = base .. ':m:' .. parts[1], base .. ':d:' .. parts[2], base .. ':mo:' .. parts[3]
            local rt, rc = tonumber(parts[4]), tonumber(parts[5])
            if redis.call('EXISTS', mk) == 1 then redis.call('HINCRBY', mk, 'tok', tokens - rt) end
            if redis.call('HEXISTS', dk, 'spent') == 1 then redis.call('HINCRBY', dk, 'spent', cost - rc) end
            if redis.call('HEXISTS', ok, 'spent') == 1 then redis.call('HINCRBY', ok, 'spent', cost - rc) end
            redis.call('HDEL', resKey, id)
            redis.call('ZREM', resxKey, id)
        end
        -- An expired reservation gives its room back and leaves a marker (nothing held) for a day, so that a late
        -- settle still counts what was used; an expired marker goes.
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', resxKey, '-inf', now, 'LIMIT', 0, 100)) do
            local fields = redis.call('HGET', resKey, id)
            if fields and string.sub(fields, -2) ~= '|x' then
                giveBack(id, fields, 0, 0)
                local p = {}
                for part in string.gmatch(fields, '[^|]+') do p[#p + 1] = part end
                redis.call('HSET', resKey, id, p[1] .. '|' .. p[2] .. '|' .. p[3] .. '|0|0|x')
                redis.call('ZADD', resxKey, now + 86400000, id)
            else
                redis.call('HDEL', resKey, id)
                redis.call('ZREM', resxKey, id)
            end
        end
        """

    /// ARGV: base, key, tokens, cost units, rpm, tpm, daily units, monthly units (-1: none), reservation lifetime ms.
    static let reserveBody = """
        local key, tokens, cost = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local rpm, tpm, daily, monthly = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
        if redis.call('HEXISTS', resKey, key) == 1 then return {'OK', 0, 0, 60000 - now % 60000} end
        if (daily >= 0 and redis.call('HEXISTS', dayKey, 'spent') == 0) or (monthly >= 0 and redis.call('HEXISTS', monthKey, 'spent') == 0) then
            return {'SEED', day * 86400000, monthStart}
        end
        local req = tonumber(redis.call('HGET', minuteKey, 'req') or '0')
        local tok = tonumber(redis.call('HGET', minuteKey, 'tok') or '0')
        local minuteLeft = 60000 - now % 60000
        -- A refusal: the verdict, requests and tokens this minute, ms left in the minute and in the refusing window.
        if rpm >= 0 and req + 1 > rpm then return {'RPM', req, tok, minuteLeft, minuteLeft} end
        if tpm >= 0 and tok + tokens > tpm then return {'TPM', req, tok, minuteLeft, minuteLeft} end
        if daily >= 0 and tonumber(redis.call('HGET', dayKey, 'spent')) + cost > daily then
            return {'DAY', req, tok, minuteLeft, (day + 1) * 86400000 - now}
        end
        if monthly >= 0 and tonumber(redis.call('HGET', monthKey, 'spent')) + cost > monthly then
            return {'MONTH', req, tok, minuteLeft, nextMonthStart - now}
        end
        redis.call('HINCRBY', minuteKey, 'req', 1)
        redis.call('HINCRBY', minuteKey, 'tok', tokens)
        redis.call('PEXPIRE', minuteKey, 120000)
        if daily >= 0 or redis.call('HEXISTS', dayKey, 'spent') == 1 then
            redis.call('HINCRBY', dayKey, 'spent', cost)
            redis.call('PEXPIRE', dayKey, 2 * 86400000)
        end
        if monthly >= 0 or redis.call('HEXISTS', monthKey, 'spent') == 1 then
            redis.call('HINCRBY', monthKey, 'spent', cost)
            redis.call('PEXPIRE', monthKey, 40 * 86400000)
        end
        redis.call('HSET', resKey, key, minute .. '|' .. day .. '|' .. monthStart .. '|' .. tokens .. '|' .. cost)
        redis.call('ZADD', resxKey, now + tonumber(ARGV[9]), key)
        redis.call('PEXPIRE', resKey, 2 * 86400000)
        redis.call('PEXPIRE', resxKey, 2 * 86400000)
        return {'OK', req + 1, tok + tokens, minuteLeft}
        """

    /// ARGV: base, key, tokens used, cost units used. A key already settled (or never reserved) changes nothing; an
    /// expired one (its room already given back) counts what was used.
    static let settleBody = """
        local key = ARGV[2]
        local fields = redis.call('HGET', resKey, key)
        if not fields then return 0 end
        giveBack(key, fields, tonumber(ARGV[3]), tonumber(ARGV[4]))
        return 1
        """

    /// ARGV: base, day index, month start ms, spent today units, spent this month units.
    static let seed = """
        local base = ARGV[1]
        local dayKey = base .. ':d:' .. ARGV[2]
        local monthKey = base .. ':mo:' .. ARGV[3]
        redis.call('HSETNX', dayKey, 'spent', ARGV[4])
        redis.call('PEXPIRE', dayKey, 2 * 86400000)
        redis.call('HSETNX', monthKey, 'spent', ARGV[5])
        redis.call('PEXPIRE', monthKey, 40 * 86400000)
        return 1
        """

    /// ARGV: base. Requests and tokens this minute, spent today and this month.
    static let usageBody = """
        return {tonumber(redis.call('HGET', minuteKey, 'req') or '0'), tonumber(redis.call('HGET', minuteKey, 'tok') or '0'),
            tonumber(redis.call('HGET', dayKey, 'spent') or '0'), tonumber(redis.call('HGET', monthKey, 'spent') or '0')}
        """

    /// ARGV: base, lifetime ms, keys. Pushes back the expiry of the keys still held (not settled, not expired).
    static let renewBody = """
        local life = tonumber(ARGV[2])
        for i = 3, #ARGV do
            local fields = redis.call('HGET', resKey, ARGV[i])
            if fields and string.sub(fields, -2) ~= '|x' then redis.call('ZADD', resxKey, now + life, ARGV[i]) end
        end
        return 1
        """
}
