import Foundation
import Logging
import Synchronization

/// Takes finished generations off the response path and writes them to the store in batches.
///
/// `record` never waits on the database. `run` flushes every `interval`; on failure the rows stay buffered
/// and are retried with backoff; when `run` is cancelled (graceful shutdown) it writes everything pending
/// before returning. The store skips job ids it already has, so a retried batch lands exactly once.
///
/// The periodic flush asks the store for a background write (`WriteUrgency.background`) while at most
/// `backgroundBacklog` rows wait, so metering takes CPU the requests leave over; a larger backlog (a machine
/// too busy to leave any), `flush()` and the last flush at shutdown write at normal priority.
public final class UsageRecorder: Sendable {
    private struct State {
        var pending: [Generation] = []
        /// Rows taken by a flush that has not finished yet.
        var inFlight = 0
        var storeHealthy = true
        /// The newest flush; the next one starts after it ends, so flushes write one after another.
        var lastFlush: Task<Void, any Error>?
        var listeners: [@Sendable ([Generation]) -> Void] = []
    }

    private let store: any Store
    private let logger: Logger
    private let state = Mutex(State())
    /// Readiness turns false when this many rows wait (rows are still accepted, never dropped).
    public let capacity: Int
    public let interval: Duration
    public let batchSize: Int
    public let backgroundBacklog: Int

    public init(
        store: any Store, capacity: Int = 50_000, interval: Duration = .milliseconds(100), batchSize: Int = 500,
        backgroundBacklog: Int = 1_000, logger: Logger
    ) {
        self.store = store
        self.capacity = capacity
        self.interval = interval
        self.batchSize = batchSize
        self.backgroundBacklog = backgroundBacklog
        self.logger = logger
    }

    /// Queues a generation; returns at once.
    public func record(_ generation: Generation) {
        state.withLock { $0.pending.append(generation) }
    }

    /// Called with each batch after it was stored (the event bus hangs here).
    public func onRecorded(_ listener: @escaping @Sendable ([Generation]) -> Void) {
        state.withLock { $0.listeners.append(listener) }
    }

    public var pendingCount: Int { state.withLock { $0.pending.count + $0.inFlight } }
    public var isFull: Bool { pendingCount >= capacity }
    public var isStoreHealthy: Bool { state.withLock { $0.storeHealthy } }

    /// Returns once every row recorded before the call is stored, or throws when the store fails (the rows that
    /// failed go back to the front of the queue). Safe to call while the writer loop runs: flushes run one after
    /// another, each in its own task, so a flush called while another writes waits for it (a caller never sees
    /// "done" while its rows are still in someone else's transaction), and a cancelled caller never cuts a write
    /// short.
    public func flush() async throws {
        try await flush(adaptive: false)
    }

    /// `adaptive`: batches go to the store as background writes while the backlog is small.
    func flush(adaptive: Bool) async throws {
        let flush = state.withLock { s in
            let previous = s.lastFlush
            let flush = Task {
                _ = await previous?.result
                try await self.writePending(adaptive: adaptive)
            }
            s.lastFlush = flush
            return flush
        }
        try await flush.value
    }

    /// Writes the rows pending when it begins (rows queued meanwhile wait for the next flush).
    ///
    /// Taking only what was there is what keeps batches large: a writer that went on taking rows as they came
    /// would, under steady load, commit the two or three rows that arrived during its last commit, again and
    /// again, never sleeping (the benchmark caught it doing ~200 transactions a second).
    private func writePending(adaptive: Bool) async throws {
        var remaining = state.withLock { $0.pending.count }
        while remaining > 0 {
            let (batch, backlog): ([Generation], Int) = state.withLock { s in
                let backlog = s.pending.count
                let n = min(batchSize, remaining, s.pending.count)
                let batch = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                s.inFlight += n
                return (batch, backlog)
            }
            if batch.isEmpty { return }
            remaining -= batch.count
            do {
                try await store.record(batch, urgency: Self.urgency(adaptive: adaptive, backlog: backlog, limit: backgroundBacklog))
            } catch {
                state.withLock { s in
                    s.pending.insert(contentsOf: batch, at: 0)
                    s.inFlight -= batch.count
                    s.storeHealthy = false
                }
                throw error
            }
            let listeners = state.withLock { s in
                s.inFlight -= batch.count
                s.storeHealthy = true
                return s.listeners
            }
            for listener in listeners { listener(batch) }
        }
    }

    /// The urgency of a batch taken when `backlog` rows were waiting.
    static func urgency(adaptive: Bool, backlog: Int, limit: Int) -> WriteUrgency {
        adaptive && backlog <= limit ? .background : .normal
    }

    /// The writer loop. Ends when cancelled, after a last flush (retried a few times if the store is down).
    public func run() async {
        var backoff = interval
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: backoff)
            } catch {
                break
            }
            do {
                // A write under way finishes even if shutdown cancels this loop; the last flush below follows it.
                try await flush(adaptive: true)
                backoff = interval
            } catch {
                backoff = min(backoff * 2, .seconds(5))
                logger.warning(
                    "usage write failed; will retry",
                    metadata: ["pending": "\(pendingCount)", "retry_in": "\(backoff)", "error": "\(String(describing: error).prefix(300))"])
            }
        }
        // The last flush runs outside the cancelled task, so the store's calls are not cut short.
        await Task {
            for attempt in 1...5 {
                do {
                    repeat { try await flush() } while state.withLock({ !$0.pending.isEmpty })
                    return
                } catch {
                    logger.error(
                        "final usage flush failed",
                        metadata: ["attempt": "\(attempt)", "pending": "\(pendingCount)", "error": "\(String(describing: error).prefix(300))"])
                    try? await Task.sleep(for: .milliseconds(200 * attempt))
                }
            }
        }.value
    }
}
