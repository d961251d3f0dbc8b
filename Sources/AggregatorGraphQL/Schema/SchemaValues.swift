import AggregatorCore
import Foundation

/// Values the schema's object types read that have no domain type of their own.
struct TenantWithKey: Sendable {
    var tenant: Tenant
    var apiKey: String
}

struct JobEdgeValue: Sendable {
    var cursor: String
    var node: Job
}

struct PageInfoValue: Sendable {
    var hasNextPage: Bool
    var endCursor: String?
}

struct JobConnectionValue: Sendable {
    var edges: [JobEdgeValue]
    var pageInfo: PageInfoValue
    var totalCount: Int
}

struct ProviderValue: Sendable {
    var name: String
    var enabled: Bool
    var healthy: Bool
    var streaming: Bool
    var tools: Bool
}

struct ModelValue: Sendable {
    var id: String
    var provider: String
}

extension UUID {
    /// Lower-case, as every ID in the API.
    var graphQLID: String { lowercasedText }
}
