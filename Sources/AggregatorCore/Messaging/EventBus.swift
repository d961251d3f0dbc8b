import Foundation

/// What subscribers hear about: a job changed, usage was recorded; and, between instances, that tenants, prices or
/// routes changed (re-read them).
public enum GatewayEvent: Sendable, Hashable, Codable {
    case jobUpdated(Job)
    case usageRecorded(UsageRecord)
    /// The directory's data (tenants and keys, prices, routes) changed in the store.
    case configChanged

    /// The tenant the event belongs to; nil for an event about no tenant's data.
    public var tenantID: UUID? {
        switch self {
        case .jobUpdated(let job): job.tenantID
        case .usageRecorded(let usage): usage.tenantID
        case .configChanged: nil
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
///
/// The queue only says which job to look at: the job's row is the truth, so an id delivered twice, late, or for a
/// job that is no longer pending costs a failed claim and nothing else, and an id the queue lost is dispatched
/// again by the worker's sweep.
public protocol JobQueue: Sendable {
    func enqueue(_ ids: [UUID]) async throws
    /// Hands ids to `handle`, at most `concurrency` at a time, until cancelled; returns when cancelled and every
    /// `handle` it started has returned. `lostData` is called when the queue finds it lost ids (its server's data
    /// was flushed or restarted empty): the caller dispatches every pending job again.
    func consume(concurrency: Int, lostData: @escaping @Sendable () async -> Void, _ handle: @escaping @Sendable (UUID) async -> Void) async throws
    /// Ids waiting in the queue, when the queue can tell.
    func depth() async -> Int?
}

/// One piece of what a job's attempt generated, or the end of that attempt.
public enum JobTokenEvent: Sendable, Hashable {
    case text(String, attempt: Int)
    case ended(attempt: Int)
}

/// The tokens of running jobs, readable from any instance (`GET /stream/jobs/{id}`): a follower that arrives late
/// gets what was generated so far, then the rest as it comes.
public protocol JobTokenLog: Sendable {
    func append(jobID: UUID, attempt: Int, text: String) async
    /// The attempt ended; what it generated stays readable for a while.
    func end(jobID: UUID, attempt: Int) async
    /// Every event of the job so far, then new ones, until the subscription is cancelled.
    func follow(jobID: UUID) -> AsyncThrowingStream<JobTokenEvent, any Error>
}
