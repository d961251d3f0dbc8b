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
        let events = c.services.bus.subscribe(bufferSize: c.services.subscriptionBufferSize)
        return SubscriptionEvents(only.map { currentStateFirst(of: $0, then: events, store: c.services.store) } ?? events) { event in
            guard case .jobUpdated(let job) = event, c.visible(tenantID: job.tenantID), only == nil || only == job.id else { return nil }
            return job
        }
    }

    /// One job's events, led by the job as it is now (SPEC §9: a subscriber that arrives after the job ended still
    /// sees its end). The subscription to `events` was made before the read, so nothing in between is missed; an
    /// event older than what was already sent is dropped.
    static func currentStateFirst(
        of id: UUID, then events: AsyncThrowingStream<GatewayEvent, any Error>, store: any Store
    ) -> AsyncThrowingStream<GatewayEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GatewayEvent.self)
        let forward = Task {
            var newest: Date?
            do {
                if let job = try await store.job(id: id) {
                    newest = job.updatedAt
                    continuation.yield(.jobUpdated(job))
                }
                for try await event in events {
                    guard case .jobUpdated(let job) = event, job.id == id else { continue }
                    if let newest, job.updatedAt < newest { continue }
                    newest = job.updatedAt
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in forward.cancel() }
        return stream
    }

    static func usageRecorded(_ c: GraphQLContext) -> SubscriptionEvents {
        SubscriptionEvents(c.services.bus.subscribe(bufferSize: c.services.subscriptionBufferSize)) { event in
            guard case .usageRecorded(let usage) = event, c.visible(tenantID: usage.tenantID) else { return nil }
            return usage
        }
    }
}
