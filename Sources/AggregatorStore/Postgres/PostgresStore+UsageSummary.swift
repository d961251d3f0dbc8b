import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore {
    /// The part of [from, to) that whole UTC days cover, read from `usage_daily`; the ragged ends (if any)
    /// come from raw `usage` rows through the `created_at` indexes. Nil bounds are open.
    struct SummaryRange {
        /// Rollup days: `day >= firstDay` and `day < endDay` (`YYYY-MM-DD`), nil when open; `useRollup` false
        /// when no whole day lies inside the range.
        var firstDay: String?
        var endDay: String?
        var useRollup: Bool
        /// Raw rows in these half-open intervals.
        var raw: [(from: Date?, to: Date?)]

        init(from: Date?, to: Date?) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let dayStart = { (date: Date) in calendar.startOfDay(for: date) }
            let lower = from.map { dayStart($0) == $0 ? $0 : calendar.date(byAdding: .day, value: 1, to: dayStart($0))! }
            let upper = to.map(dayStart)
            if let lower, let upper, lower >= upper {
                // No whole day inside: everything from raw rows.
                firstDay = nil
                endDay = nil
                useRollup = false
                raw = [(from, to)]
                return
            }
            firstDay = lower.map(Self.dayText)
            endDay = upper.map(Self.dayText)
            useRollup = true
            raw = []
            if let from, let lower, from < lower { raw.append((from, lower)) }
            if let to, let upper, upper < to { raw.append((upper, to)) }
        }

        static func dayText(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            return formatter.string(from: date)
        }
    }

    static func usageSummaryQuery(tenantID: UUID?, from: Date?, to: Date?, groupBy: [UsageGroupBy]) -> PostgresQuery {
        let range = SummaryRange(from: from, to: to)
        let keys = UsageGroupBy.allCases.filter(groupBy.contains)
        let columns = keys.map { key in
            switch key {
            case .provider: "provider"
            case .model: "model"
            case .tenant: "tenant_id"
            case .day: "day"
            }
        }
        var sql = PostgresQuery.StringInterpolation.empty
        sql.appendLiteral("SELECT ")
        for column in columns {
            sql.appendLiteral(column == "day" ? "to_char(day, 'YYYY-MM-DD') AS day, " : column == "model" ? "nullif(model, '') AS model, " : "\(column), ")
        }
        sql.appendLiteral(
            """
            coalesce(sum(requests), 0)::bigint AS requests, coalesce(sum(tokens_in), 0)::bigint AS tokens_in,
            coalesce(sum(tokens_out), 0)::bigint AS tokens_out, coalesce(sum(cache_read_tokens), 0)::bigint AS cache_read_tokens,
            coalesce(sum(cache_write_tokens), 0)::bigint AS cache_write_tokens, coalesce(sum(cost), 0)::numeric(30, 10)::text AS cost
            FROM (
            """)
        var parts = 0
        if range.useRollup {
            sql.appendLiteral(
                """
                SELECT tenant_id, day, provider, model, requests, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost
                FROM usage_daily WHERE TRUE
                """)
            sql.appendFilter("tenant_id = ", tenantID)
            sql.appendFilter("day >= ", range.firstDay, cast: "::date")
            sql.appendFilter("day < ", range.endDay, cast: "::date")
            parts += 1
        }
        for interval in range.raw {
            if parts > 0 { sql.appendLiteral(" UNION ALL ") }
            sql.appendLiteral(
                """
                SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, provider, coalesce(model, '') AS model,
                    1 AS requests, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost FROM usage WHERE TRUE
                """)
            sql.appendFilter("tenant_id = ", tenantID)
            sql.appendFilter("created_at >= ", interval.from)
            sql.appendFilter("created_at < ", interval.to)
            parts += 1
        }
        sql.appendLiteral(") AS u")
        if !columns.isEmpty {
            let list = columns.joined(separator: ", ")
            sql.appendLiteral(" GROUP BY \(list) ORDER BY \(list)")
        }
        return PostgresQuery(stringInterpolation: sql)
    }

    /// Usage between `from` (inclusive) and `to` (exclusive), grouped, with exact NUMERIC sums. Whole UTC days
    /// are read from the `usage_daily` rollup, so cost per tenant per day over a month reads a few rows per
    /// tenant and day, never the raw usage.
    public func usageSummary(tenantID: UUID?, from: Date?, to: Date?, groupBy: [UsageGroupBy]) async throws -> [UsageAggregate] {
        let keys = Set(groupBy)
        return try await query(Self.usageSummaryQuery(tenantID: tenantID, from: from, to: to, groupBy: groupBy)).compactMap { row in
            let requests = try row.int("requests")
            if requests == 0 { return nil }
            return UsageAggregate(
                tenantID: keys.contains(.tenant) ? try row.uuid("tenant_id") : nil,
                provider: keys.contains(.provider) ? try row.optionalString("provider") : nil,
                model: keys.contains(.model) ? try row.optionalString("model") : nil,
                day: keys.contains(.day) ? try row.optionalString("day") : nil,
                requests: requests, tokensIn: try row.int("tokens_in"), tokensOut: try row.int("tokens_out"),
                cacheReadTokens: try row.int("cache_read_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
                cost: try row.money("cost"))
        }
    }
}
