import AggregatorCore
import Foundation
import GraphQL

/// `routes`, and the admin's `setModelRoute` and `deleteModelRoute`. A changed route is used by this
/// instance's next request; other instances pick it up within their refresh interval.
enum RouteResolvers {
    static func routes(_ c: GraphQLContext) -> [ModelRoute] {
        c.services.directory.routes.values.sorted { $0.alias < $1.alias }
    }

    static func set(_ args: Map, _ c: GraphQLContext) async throws -> ModelRoute {
        try c.requireAdmin("setModelRoute")
        let alias = (args["alias"].optionalString ?? "").trimmingCharacters(in: .whitespaces)
        guard !alias.isEmpty else { throw GraphQLAPIError.badInput("alias must not be empty.") }
        let targets = (args["targets"].array ?? []).compactMap(\.optionalString).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !targets.isEmpty else { throw GraphQLAPIError.badInput("targets must list at least one provider/model.") }
        for target in targets where ModelTarget(parsing: target) == nil {
            throw GraphQLAPIError.badInput("targets: '\(target)' is not of the form provider/model.")
        }
        let stored = try await c.services.store.setRoute(ModelRoute(alias: alias, targets: targets))
        try await c.services.directory.reloadRoutes()
        return stored
    }

    static func delete(_ args: Map, _ c: GraphQLContext) async throws -> Bool {
        try c.requireAdmin("deleteModelRoute")
        let deleted = try await c.services.store.deleteRoute(alias: args["alias"].optionalString ?? "")
        try await c.services.directory.reloadRoutes()
        return deleted
    }
}
