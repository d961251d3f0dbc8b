import Foundation

/// The keys scaled mode keeps in Redis, under one prefix (`agg` unless a test gives its own). None holds the truth:
/// losing any of them delays work or a live update, and the store and the sweeps make up for it.
public struct RedisKeys: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "agg") {
        self.prefix = prefix
    }

    /// Stream of job ids to run (consumer group `workers`), capped.
    public var jobs: String { "\(prefix):{q}:jobs" }
    public static let workersGroup = "workers"
    /// Stream of gateway events, capped, read by every instance.
    public var events: String { "\(prefix):events" }
    /// Stream of one job's generated text, expiring after the job ends.
    public func tokens(of job: UUID) -> String { "\(prefix):job:\(job.uuidString.lowercased()):tokens" }

    /// Caps on the streams (`MAXLEN ~`): ids beyond it were long read, events long delivered.
    public static let jobsMaxLength = 100_000
    public static let eventsMaxLength = 10_000
    /// A job's token stream lives this long after its last piece (seconds), and this long after its end.
    public static let tokensTTL = 3_600
    public static let tokensTTLAfterEnd = 300
}
