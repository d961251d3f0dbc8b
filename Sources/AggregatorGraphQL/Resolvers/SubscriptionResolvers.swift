import AggregatorCore
import Foundation
import GraphQL

/// `jobUpdated` and `usageRecorded`: events from the bus, only the subscriber's own (the admin's: all),
/// each subscription with a bounded buffer.
enum SubscriptionResolvers {
    static func jobUpdated(_ args: Map, _ c: GraphQLContext) throws -> SubscriptionEvents {
        let text = args["id"].optionalString
        let only = try text.map { text in
            guard let id = UUID(uuidString: text) else { throw GraphQLAPIError.badInput("id is not a job id.") }
            return id
        }
        return SubscriptionEvents(c.services.bus.subscribe(bufferSize: c.services.subscriptionBufferSize)) { event in
            guard case .jobUpdated(let job) = event, c.visible(tenantID: job.tenantID), only == nil || only == job.id else { return nil }
            return job
        }
    }

    static func usageRecorded(_ c: GraphQLContext) -> SubscriptionEvents {
        SubscriptionEvents(c.services.bus.subscribe(bufferSize: c.services.subscriptionBufferSize)) { event in
            guard case .usageRecorded(let usage) = event, c.visible(tenantID: usage.tenantID) else { return nil }
            return usage
        }
    }
}
