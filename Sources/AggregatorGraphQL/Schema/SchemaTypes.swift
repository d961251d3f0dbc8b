import AggregatorCore
import Foundation
import GraphQL

/// The named types of SPEC §9, field for field, in the order the SDL lists them.
struct SchemaTypes {
    let dateTime: GraphQLScalarType
    let decimal: GraphQLScalarType
    let jobStatus: GraphQLEnumType
    let jobType: GraphQLEnumType
    let usageGroupBy: GraphQLEnumType
    let tenant: GraphQLObjectType
    let tenantLimits: GraphQLObjectType
    let tenantLimitsInput: GraphQLInputObjectType
    let limitStatus: GraphQLObjectType
    let tenantWithKey: GraphQLObjectType
    let job: GraphQLObjectType
    let pageInfo: GraphQLObjectType
    let jobEdge: GraphQLObjectType
    let jobConnection: GraphQLObjectType
    let jobFilter: GraphQLInputObjectType
    let usageRecord: GraphQLObjectType
    let usageAggregate: GraphQLObjectType
    let modelPrice: GraphQLObjectType
    let modelPriceInput: GraphQLInputObjectType
    let modelRoute: GraphQLObjectType
    let provider: GraphQLObjectType
    let model: GraphQLObjectType
    let createJobInput: GraphQLInputObjectType

    init() throws {
        dateTime = try DateTimeScalar.make()
        decimal = try DecimalScalar.make()
        jobStatus = try Self.enumType("JobStatus", ["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"])
        jobType = try Self.enumType("JobType", ["TEXT", "IMAGE"])
        usageGroupBy = try Self.enumType("UsageGroupBy", ["PROVIDER", "MODEL", "TENANT", "DAY"])

        var tl = FieldBuilder<TenantLimits>()
        tl.add("requestsPerMinute", GraphQLInt) { $0.requestsPerMinute }
        tl.add("tokensPerMinute", GraphQLInt) { $0.tokensPerMinute }
        tl.add("dailyBudget", decimal) { $0.dailyBudget }
        tl.add("monthlyBudget", decimal) { $0.monthlyBudget }
        tenantLimits = try GraphQLObjectType(
            name: "TenantLimits", description: "null: no limit. Minutes, days and months are UTC; tokens are input plus output.",
            fields: tl.fields)
        tenantLimitsInput = try GraphQLInputObjectType(
            name: "TenantLimitsInput",
            fields: [
                "requestsPerMinute": InputObjectField(type: GraphQLInt),
                "tokensPerMinute": InputObjectField(type: GraphQLInt),
                "dailyBudget": InputObjectField(type: decimal),
                "monthlyBudget": InputObjectField(type: decimal),
            ])

        var ls = FieldBuilder<LimitStatusValue>()
        ls.add("tenantId", GraphQLNonNull(GraphQLID)) { $0.tenantID.graphQLID }
        ls.add("limits", GraphQLNonNull(tenantLimits)) { $0.limits }
        ls.add("requestsThisMinute", GraphQLNonNull(GraphQLInt)) { $0.usage.requestsThisMinute }
        ls.add("tokensThisMinute", GraphQLNonNull(GraphQLInt)) { $0.usage.tokensThisMinute }
        ls.add("spentToday", GraphQLNonNull(decimal)) { $0.usage.spentToday }
        ls.add("spentThisMonth", GraphQLNonNull(decimal)) { $0.usage.spentThisMonth }
        limitStatus = try GraphQLObjectType(
            name: "LimitStatus", description: "The tenant's counters in the UTC minute, day and month open now, reservations in flight included.",
            fields: ls.fields)

        var t = FieldBuilder<Tenant>()
        t.add("id", GraphQLNonNull(GraphQLID)) { $0.id.graphQLID }
        t.add("name", GraphQLNonNull(GraphQLString)) { $0.name }
        t.add("active", GraphQLNonNull(GraphQLBoolean)) { $0.active }
        t.add("keyPrefix", GraphQLNonNull(GraphQLString)) { $0.keyPrefix }
        t.add("createdAt", GraphQLNonNull(dateTime)) { $0.createdAt }
        t.add("updatedAt", GraphQLNonNull(dateTime)) { $0.updatedAt }
        t.add("limits", GraphQLNonNull(tenantLimits)) { $0.limits }
        tenant = try GraphQLObjectType(name: "Tenant", fields: t.fields)

        var tk = FieldBuilder<TenantWithKey>()
        tk.add("tenant", GraphQLNonNull(tenant)) { $0.tenant }
        tk.add("apiKey", GraphQLNonNull(GraphQLString)) { $0.apiKey }
        tenantWithKey = try GraphQLObjectType(name: "TenantWithKey", fields: tk.fields)

        var j = FieldBuilder<Job>()
        j.add("id", GraphQLNonNull(GraphQLID)) { $0.id.graphQLID }
        j.add("tenantId", GraphQLNonNull(GraphQLID)) { $0.tenantID.graphQLID }
        j.add("type", GraphQLNonNull(jobType)) { $0.type.rawValue.uppercased() }
        j.add("status", GraphQLNonNull(jobStatus)) { $0.status.rawValue.uppercased() }
        j.add("input", GraphQLNonNull(GraphQLString)) { $0.input }
        j.add("result", GraphQLString) { $0.result }
        j.add("error", GraphQLString) { $0.error }
        j.add("provider", GraphQLString) { $0.provider }
        j.add("model", GraphQLString) { $0.model }
        j.add("tokensIn", GraphQLNonNull(GraphQLInt)) { $0.tokensIn }
        j.add("tokensOut", GraphQLNonNull(GraphQLInt)) { $0.tokensOut }
        j.add("cost", GraphQLNonNull(decimal)) { $0.cost }
        j.add("attempts", GraphQLNonNull(GraphQLInt)) { $0.attempts }
        j.add("createdAt", GraphQLNonNull(dateTime)) { $0.createdAt }
        j.add("updatedAt", GraphQLNonNull(dateTime)) { $0.updatedAt }
        j.add("startedAt", dateTime) { $0.startedAt }
        j.add("finishedAt", dateTime) { $0.finishedAt }
        job = try GraphQLObjectType(name: "Job", fields: j.fields)

        var p = FieldBuilder<PageInfoValue>()
        p.add("hasNextPage", GraphQLNonNull(GraphQLBoolean)) { $0.hasNextPage }
        p.add("endCursor", GraphQLString) { $0.endCursor }
        pageInfo = try GraphQLObjectType(name: "PageInfo", fields: p.fields)

        var e = FieldBuilder<JobEdgeValue>()
        e.add("cursor", GraphQLNonNull(GraphQLString)) { $0.cursor }
        e.add("node", GraphQLNonNull(job)) { $0.node }
        jobEdge = try GraphQLObjectType(name: "JobEdge", fields: e.fields)

        var c = FieldBuilder<JobConnectionValue>()
        c.add("edges", GraphQLNonNull(GraphQLList(GraphQLNonNull(jobEdge)))) { $0.edges }
        c.add("pageInfo", GraphQLNonNull(pageInfo)) { $0.pageInfo }
        c.add("totalCount", GraphQLNonNull(GraphQLInt)) { $0.totalCount }
        jobConnection = try GraphQLObjectType(name: "JobConnection", fields: c.fields)

        jobFilter = try GraphQLInputObjectType(
            name: "JobFilter",
            fields: [
                "status": InputObjectField(type: jobStatus),
                "type": InputObjectField(type: jobType),
                "provider": InputObjectField(type: GraphQLString),
                "model": InputObjectField(type: GraphQLString),
                "from": InputObjectField(type: dateTime),
                "to": InputObjectField(type: dateTime),
                "search": InputObjectField(type: GraphQLString),
                "tenantId": InputObjectField(type: GraphQLID),
            ])

        var u = FieldBuilder<UsageRecord>()
        u.add("id", GraphQLNonNull(GraphQLID)) { $0.id.graphQLID }
        u.add("tenantId", GraphQLNonNull(GraphQLID)) { $0.tenantID.graphQLID }
        u.add("jobId", GraphQLID) { $0.jobID?.graphQLID }
        u.add("provider", GraphQLNonNull(GraphQLString)) { $0.provider }
        u.add("model", GraphQLString) { $0.model }
        u.add("tokensIn", GraphQLNonNull(GraphQLInt)) { $0.tokensIn }
        u.add("tokensOut", GraphQLNonNull(GraphQLInt)) { $0.tokensOut }
        u.add("cacheReadTokens", GraphQLNonNull(GraphQLInt)) { $0.cacheReadTokens }
        u.add("cacheWriteTokens", GraphQLNonNull(GraphQLInt)) { $0.cacheWriteTokens }
        u.add("cost", GraphQLNonNull(decimal)) { $0.cost }
        u.add("createdAt", GraphQLNonNull(dateTime)) { $0.createdAt }
        usageRecord = try GraphQLObjectType(name: "UsageRecord", fields: u.fields)

        var a = FieldBuilder<UsageAggregate>()
        a.add("tenantId", GraphQLID) { $0.tenantID?.graphQLID }
        a.add("provider", GraphQLString) { $0.provider }
        a.add("model", GraphQLString) { $0.model }
        a.add("day", GraphQLString) { $0.day }
        a.add("requests", GraphQLNonNull(GraphQLInt)) { $0.requests }
        a.add("tokensIn", GraphQLNonNull(GraphQLInt)) { $0.tokensIn }
        a.add("tokensOut", GraphQLNonNull(GraphQLInt)) { $0.tokensOut }
        a.add("cacheReadTokens", GraphQLNonNull(GraphQLInt)) { $0.cacheReadTokens }
        a.add("cacheWriteTokens", GraphQLNonNull(GraphQLInt)) { $0.cacheWriteTokens }
        a.add("cost", GraphQLNonNull(decimal)) { $0.cost }
        usageAggregate = try GraphQLObjectType(name: "UsageAggregate", fields: a.fields)

        var mp = FieldBuilder<ModelPrice>()
        mp.add("id", GraphQLNonNull(GraphQLID)) { $0.id.graphQLID }
        mp.add("provider", GraphQLNonNull(GraphQLString)) { $0.provider }
        mp.add("model", GraphQLNonNull(GraphQLString)) { $0.model }
        mp.add("inputPricePerMillion", GraphQLNonNull(decimal)) { $0.inputPerMillion }
        mp.add("outputPricePerMillion", GraphQLNonNull(decimal)) { $0.outputPerMillion }
        mp.add("cacheReadPricePerMillion", decimal) { $0.cacheReadPerMillion }
        mp.add("cacheWritePricePerMillion", decimal) { $0.cacheWritePerMillion }
        mp.add("imagePrice", decimal) { $0.imagePrice }
        mp.add("isDefault", GraphQLNonNull(GraphQLBoolean)) { $0.isDefault }
        mp.add("updatedAt", GraphQLNonNull(dateTime)) { $0.updatedAt }
        modelPrice = try GraphQLObjectType(name: "ModelPrice", fields: mp.fields)

        modelPriceInput = try GraphQLInputObjectType(
            name: "ModelPriceInput",
            fields: [
                "provider": InputObjectField(type: GraphQLNonNull(GraphQLString)),
                "model": InputObjectField(type: GraphQLNonNull(GraphQLString)),
                "inputPricePerMillion": InputObjectField(type: GraphQLNonNull(decimal)),
                "outputPricePerMillion": InputObjectField(type: GraphQLNonNull(decimal)),
                "cacheReadPricePerMillion": InputObjectField(type: decimal),
                "cacheWritePricePerMillion": InputObjectField(type: decimal),
                "imagePrice": InputObjectField(type: decimal),
                "isDefault": InputObjectField(type: GraphQLBoolean),
            ])

        var r = FieldBuilder<ModelRoute>()
        r.add("alias", GraphQLNonNull(GraphQLString)) { $0.alias }
        r.add("targets", GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString)))) { $0.targets }
        modelRoute = try GraphQLObjectType(name: "ModelRoute", fields: r.fields)

        var pv = FieldBuilder<ProviderValue>()
        pv.add("name", GraphQLNonNull(GraphQLString)) { $0.name }
        pv.add("enabled", GraphQLNonNull(GraphQLBoolean)) { $0.enabled }
        pv.add("healthy", GraphQLNonNull(GraphQLBoolean)) { $0.healthy }
        pv.add("streaming", GraphQLNonNull(GraphQLBoolean)) { $0.streaming }
        pv.add("tools", GraphQLNonNull(GraphQLBoolean)) { $0.tools }
        provider = try GraphQLObjectType(name: "Provider", fields: pv.fields)

        var m = FieldBuilder<ModelValue>()
        m.add("id", GraphQLNonNull(GraphQLID)) { $0.id }
        m.add("provider", GraphQLNonNull(GraphQLString)) { $0.provider }
        model = try GraphQLObjectType(name: "Model", fields: m.fields)

        createJobInput = try GraphQLInputObjectType(
            name: "CreateJobInput",
            fields: [
                "type": InputObjectField(type: GraphQLNonNull(jobType)),
                "model": InputObjectField(type: GraphQLNonNull(GraphQLString)),
                "input": InputObjectField(type: GraphQLNonNull(GraphQLString)),
            ])
    }

    private static func enumType(_ name: String, _ values: [String]) throws -> GraphQLEnumType {
        var map = GraphQLEnumValueMap()
        for value in values { map[value] = GraphQLEnumValue(value: .string(value)) }
        return try GraphQLEnumType(name: name, values: map)
    }
}
