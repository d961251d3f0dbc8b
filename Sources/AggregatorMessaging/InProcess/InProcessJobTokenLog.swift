import AggregatorCore
import Foundation
import Synchronization

/// The embedded-mode token log: each running job's pieces in memory, with its followers. A job's log is dropped
/// `keepFor` after its last attempt ended (a follower arriving later reads the job's result from the store).
public final class InProcessJobTokenLog: JobTokenLog {
    private struct Entry {
        var events: [JobTokenEvent] = []
        var followers: [UUID: AsyncThrowingStream<JobTokenEvent, any Error>.Continuation] = [:]
        var endedAt: ContinuousClock.Instant?
    }

    private let logs = Mutex<[UUID: Entry]>([:])
    private let keepFor: Duration

    public init(keepFor: Duration = .seconds(60)) {
        self.keepFor = keepFor
    }

    public func append(jobID: UUID, attempt: Int, text: String) async {
        deliver(.text(text, attempt: attempt), to: jobID)
    }

    public func end(jobID: UUID, attempt: Int) async {
        deliver(.ended(attempt: attempt), to: jobID)
    }

    public func follow(jobID: UUID) -> AsyncThrowingStream<JobTokenEvent, any Error> {
        let token = UUID()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: JobTokenEvent.self)
        continuation.onTermination = { [weak self] _ in
            self?.logs.withLock { logs in
                logs[jobID]?.followers[token] = nil
                if let entry = logs[jobID], entry.followers.isEmpty, entry.events.isEmpty { logs[jobID] = nil }
            }
        }
        logs.withLock { logs in
            for event in logs[jobID]?.events ?? [] { continuation.yield(event) }
            logs[jobID, default: Entry()].followers[token] = continuation
        }
        return stream
    }

    private func deliver(_ event: JobTokenEvent, to jobID: UUID) {
        let now = ContinuousClock.now
        let followers = logs.withLock { logs in
            logs[jobID, default: Entry()].events.append(event)
            if case .ended = event {
                logs[jobID]?.endedAt = now
                // Forget logs that ended a while ago and that nobody follows.
                for (id, entry) in logs where entry.followers.isEmpty && entry.endedAt.map({ $0 + keepFor < now }) == true {
                    logs[id] = nil
                }
            } else {
                logs[jobID]?.endedAt = nil
            }
            return logs[jobID].map { Array($0.followers.values) } ?? []
        }
        for follower in followers { follower.yield(event) }
    }

    /// Jobs whose log is held (for tests of the bound).
    public var heldCount: Int { logs.withLock { $0.count } }
}
