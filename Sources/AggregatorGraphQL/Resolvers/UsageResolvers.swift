import AggregatorCore
import Foundation
import GraphQL

/// `usageSummary`: exact sums grouped by any combination of PROVIDER, MODEL, TENANT and DAY.
enum UsageResolvers {
    static func usageSummary(_ args: Map, _ c: GraphQLContext) async throws -> [UsageAggregate] {
        let from = try args["from"].optionalString.map(DateTimeScalar.parse)
        let to = try args["to"].optionalString.map(DateTimeScalar.parse)
        if let from, let to, to < from { throw GraphQLAPIError.badInput("to must not be before from.") }
        var groupBy: [UsageGroupBy] = []
        for name in args["groupBy"].array ?? [] {
            guard let group = name.optionalString.flatMap({ UsageGroupBy(rawValue: $0.lowercased()) }) else { continue }
            // TENANT grouping is the admin's; a tenant only ever sees its own rows.
            if group == .tenant, !c.principal.isAdmin { continue }
            if !groupBy.contains(group) { groupBy.append(group) }
        }
        return try await c.services.jobStore.usageSummary(tenantID: c.scopeTenantID, from: from, to: to, groupBy: groupBy)
    }
}
