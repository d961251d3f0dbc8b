import AggregatorCore
import Foundation
import GraphQL

/// `job`, `jobs`, `createJob`, `cancelJob`: a tenant sees and changes only its own jobs.
enum JobResolvers {
    static let maxPageSize = 100

    static func job(_ args: Map, _ c: GraphQLContext) async throws -> Job? {
        // A malformed id, an unknown id and another tenant's job all read the same: null.
        guard let text = args["id"].optionalString, let id = UUID(uuidString: text),
            let job = try await c.services.store.job(id: id), c.visible(tenantID: job.tenantID)
        else { return nil }
        return job
    }

    static func jobs(_ args: Map, _ c: GraphQLContext) async throws -> JobConnectionValue {
        let first = args["first"].int ?? 20
        guard (0...maxPageSize).contains(first) else {
            throw GraphQLAPIError.badInput("first must be between 0 and \(maxPageSize); got \(first).")
        }
        var after: JobCursor?
        if let text = args["after"].optionalString {
            guard let cursor = JobCursor(encoded: text) else {
                throw GraphQLAPIError.badInput("after must be a cursor returned by this API (pageInfo.endCursor or edges.cursor).")
            }
            after = cursor
        }
        let filter = try jobFilter(args["filter"], c)
        let page = try await c.services.jobStore.jobs(filter: filter, first: first, after: after)
        let edges = page.jobs.map { JobEdgeValue(cursor: JobCursor(createdAt: $0.createdAt, id: $0.id).encoded, node: $0) }
        return JobConnectionValue(
            edges: edges, pageInfo: PageInfoValue(hasNextPage: page.hasNextPage, endCursor: edges.last?.cursor), totalCount: page.totalCount)
    }

    /// The store's filter from the GraphQL `JobFilter`; `tenantId` counts for the admin only.
    static func jobFilter(_ value: Map, _ c: GraphQLContext) throws -> JobFilter {
        var filter = JobFilter()
        if case .dictionary(let fields) = value {
            filter.status = fields["status"]?.optionalString.flatMap { JobStatus(rawValue: $0.lowercased()) }
            filter.type = fields["type"]?.optionalString.flatMap { JobType(rawValue: $0.lowercased()) }
            filter.provider = fields["provider"]?.optionalString
            filter.model = fields["model"]?.optionalString
            filter.from = try fields["from"]?.optionalString.map(DateTimeScalar.parse)
            filter.to = try fields["to"]?.optionalString.map(DateTimeScalar.parse)
            filter.search = fields["search"]?.optionalString
            if c.principal.isAdmin, let text = fields["tenantId"]?.optionalString {
                guard let id = UUID(uuidString: text) else { throw GraphQLAPIError.badInput("filter.tenantId is not a tenant id.") }
                filter.tenantID = id
            }
        }
        if let own = c.scopeTenantID { filter.tenantID = own }
        return filter
    }

    static func createJob(_ args: Map, _ c: GraphQLContext) async throws -> Job {
        guard let tenantID = c.scopeTenantID else {
            throw GraphQLAPIError.badInput("The admin key is not a tenant; create jobs with a tenant's key.")
        }
        let input = args["input"]
        guard let typeName = input["type"].optionalString, let type = JobType(rawValue: typeName.lowercased()),
            let model = input["model"].optionalString, let text = input["input"].optionalString
        else { throw GraphQLAPIError.badInput("input needs type, model and input.") }
        guard !model.isEmpty else { throw GraphQLAPIError.badInput("input.model must not be empty.") }
        do {
            _ = try await c.services.catalog.resolve(model)
        } catch {
            throw GraphQLAPIError.badInput("The model '\(model)' does not exist or its provider is not on.")
        }
        return try await c.services.jobs.create(tenantID, type, model, text)
    }

    static func cancelJob(_ args: Map, _ c: GraphQLContext) async throws -> Job {
        let text = args["id"].optionalString ?? ""
        guard let id = UUID(uuidString: text), let job = try await c.services.jobs.cancel(id, c.scopeTenantID) else {
            throw GraphQLAPIError.notFound("No job with id '\(text)'.")
        }
        return job
    }
}
