import GraphQL

/// The GraphQL schema of SPEC §9: root fields in the SDL's order, each bound to its resolver.
public enum AggregatorSchema {
    /// The schema. It holds no state: each operation's `GraphQLContext` brings the caller and the services.
    public static func make() throws -> GraphQLSchema {
        let t = try SchemaTypes()
        let id = GraphQLNonNull(GraphQLID)
        let string = GraphQLNonNull(GraphQLString)
        let admin = "Admin only."

        var query = RootFieldBuilder()
        query.add("me", GraphQLNonNull(t.tenant)) { _, c in TenantResolvers.me(c) }
        query.add("job", t.job, args: ["id": GraphQLArgument(type: id)], JobResolvers.job)
        query.add(
            "jobs", GraphQLNonNull(t.jobConnection),
            args: [
                "filter": GraphQLArgument(type: t.jobFilter),
                "first": GraphQLArgument(type: GraphQLInt, defaultValue: .number(20)),
                "after": GraphQLArgument(type: GraphQLString),
            ], JobResolvers.jobs)
        query.add(
            "usageSummary", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.usageAggregate))),
            args: [
                "from": GraphQLArgument(type: t.dateTime),
                "to": GraphQLArgument(type: t.dateTime),
                "groupBy": GraphQLArgument(
                    type: GraphQLNonNull(GraphQLList(GraphQLNonNull(t.usageGroupBy))), defaultValue: .array([.string("PROVIDER"), .string("MODEL")])),
            ], UsageResolvers.usageSummary)
        query.add("pricing", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.modelPrice)))) { _, c in try await PricingResolvers.pricing(c) }
        query.add("routes", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.modelRoute)))) { _, c in RouteResolvers.routes(c) }
        query.add("providers", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.provider)))) { _, c in await CatalogResolvers.providers(c) }
        query.add("models", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.model)))) { _, c in await CatalogResolvers.models(c) }
        query.add("tenants", GraphQLNonNull(GraphQLList(GraphQLNonNull(t.tenant))), description: admin) { _, c in
            try await TenantResolvers.tenants(c)
        }

        query.add(
            "limitStatus", GraphQLNonNull(t.limitStatus), description: "Own; the admin names any tenant.",
            args: ["tenantId": GraphQLArgument(type: GraphQLID)], TenantResolvers.limitStatus)

        var mutation = RootFieldBuilder()
        mutation.add("createJob", GraphQLNonNull(t.job), args: ["input": GraphQLArgument(type: GraphQLNonNull(t.createJobInput))], JobResolvers.createJob)
        mutation.add("cancelJob", GraphQLNonNull(t.job), args: ["id": GraphQLArgument(type: id)], JobResolvers.cancelJob)
        mutation.add(
            "upsertModelPrice", GraphQLNonNull(t.modelPrice), description: admin,
            args: ["input": GraphQLArgument(type: GraphQLNonNull(t.modelPriceInput))], PricingResolvers.upsert)
        mutation.add(
            "deleteModelPrice", GraphQLNonNull(GraphQLBoolean), description: admin,
            args: ["provider": GraphQLArgument(type: string), "model": GraphQLArgument(type: string)], PricingResolvers.delete)
        mutation.add(
            "setModelRoute", GraphQLNonNull(t.modelRoute), description: admin,
            args: ["alias": GraphQLArgument(type: string), "targets": GraphQLArgument(type: GraphQLNonNull(GraphQLList(string)))],
            RouteResolvers.set)
        mutation.add(
            "deleteModelRoute", GraphQLNonNull(GraphQLBoolean), description: admin, args: ["alias": GraphQLArgument(type: string)],
            RouteResolvers.delete)
        mutation.add(
            "createTenant", GraphQLNonNull(t.tenantWithKey), description: admin, args: ["name": GraphQLArgument(type: string)],
            TenantResolvers.createTenant)
        mutation.add(
            "rotateTenantKey", GraphQLNonNull(t.tenantWithKey), description: admin, args: ["id": GraphQLArgument(type: id)],
            TenantResolvers.rotateTenantKey)
        mutation.add(
            "setTenantActive", GraphQLNonNull(t.tenant), description: admin,
            args: ["id": GraphQLArgument(type: id), "active": GraphQLArgument(type: GraphQLNonNull(GraphQLBoolean))],
            TenantResolvers.setTenantActive)
        mutation.add(
            "setTenantLimits", GraphQLNonNull(t.tenant), description: "Admin only; replaces all four.",
            args: ["id": GraphQLArgument(type: id), "limits": GraphQLArgument(type: GraphQLNonNull(t.tenantLimitsInput))],
            TenantResolvers.setTenantLimits)

        var subscription = RootFieldBuilder()
        subscription.addSubscription(
            "jobUpdated", GraphQLNonNull(t.job), description: "Own jobs (admin: all); id narrows to one job.",
            args: ["id": GraphQLArgument(type: GraphQLID)], SubscriptionResolvers.jobUpdated)
        subscription.addSubscription("usageRecorded", GraphQLNonNull(t.usageRecord), description: "Own usage (admin: all).") { _, c in
            SubscriptionResolvers.usageRecorded(c)
        }

        return try GraphQLSchema(
            query: GraphQLObjectType(name: "Query", fields: query.fields),
            mutation: GraphQLObjectType(name: "Mutation", fields: mutation.fields),
            subscription: GraphQLObjectType(name: "Subscription", fields: subscription.fields),
            types: [t.jobStatus, t.jobType, t.usageGroupBy, t.tenant, t.tenantWithKey, t.job, t.pageInfo, t.jobEdge, t.jobConnection, t.jobFilter])
    }

    /// The schema as SDL, as served at `GET /graphql/schema` and committed as `schema.graphql`.
    public static func sdl() throws -> String {
        printSchema(schema: try make()) + "\n"
    }
}
