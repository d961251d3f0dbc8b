import Foundation

/// What subscribers hear about: a job changed, usage was recorded.
public enum GatewayEvent: Sendable, Hashable {
    case jobUpdated(Job)
    case usageRecorded(UsageRecord)

    public var tenantID: UUID {
        switch self {
        case .jobUpdated(let job): job.tenantID
        case .usageRecorded(let usage): usage.tenantID
        }
    }
}

/// A subscriber fell too far behind and was cut off (its buffer is bounded).
public struct SlowSubscriberError: Error, Equatable {
    public init() {}
}

/// Carries events from wherever they happen (a `/v1` call, `/stream`, the worker) to every subscriber on
/// every instance. In process for embedded mode; Redis for scaled mode.
public protocol EventBus: Sendable {
    func publish(_ event: GatewayEvent)
    /// A new subscription; it ends with `SlowSubscriberError` when more than `bufferSize` events wait unread.
    func subscribe(bufferSize: Int) -> AsyncThrowingStream<GatewayEvent, any Error>
}

/// Feeds job ids to workers. In process for embedded mode; Redis for scaled mode.
public protocol JobQueue: Sendable {
    func enqueue(_ id: UUID) async throws
    /// The next job id; waits until there is one. Throws `CancellationError` when cancelled.
    func next() async throws -> UUID
}
