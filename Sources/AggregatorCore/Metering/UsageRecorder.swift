import Foundation
import Logging
import Synchronization

/// Takes finished generations off the response path and writes them to the store in batches.
///
/// `record` never waits on the database. `run` flushes every `interval`; on failure the rows stay buffered
/// and are retried with backoff; when `run` is cancelled (graceful shutdown) it writes everything pending
/// before returning. The store skips job ids it already has, so a retried batch lands exactly once.
public final class UsageRecorder: Sendable {
    private struct State {
        var pending: [Generation] = []
        /// Rows taken by a flush that has not finished yet.
        var inFlight = 0
        var storeHealthy = true
        var listeners: [@Sendable ([Generation]) -> Void] = []
    }

    private let store: any Store
    private let logger: Logger
    private let state = Mutex(State())
    /// Readiness turns false when this many rows wait (rows are still accepted, never dropped).
    public let capacity: Int
    public let interval: Duration
    public let batchSize: Int

    public init(store: any Store, capacity: Int = 50_000, interval: Duration = .milliseconds(100), batchSize: Int = 500, logger: Logger) {
        self.store = store
        self.capacity = capacity
        self.interval = interval
        self.batchSize = batchSize
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

    /// Writes the rows pending when it is called (rows queued meanwhile wait for the next flush). Throws when
    /// the store fails (those rows go back to the front of the queue). Safe to call while the writer loop runs:
    /// each batch is taken out of the queue by one caller.
    ///
    /// Taking only what was there is what keeps batches large: a writer that went on taking rows as they came
    /// would, under steady load, commit the two or three rows that arrived during its last commit, again and
    /// again, never sleeping (the benchmark caught it doing ~200 transactions a second).
    public func flush() async throws {
        var remaining = state.withLock { $0.pending.count }
        while remaining > 0 {
            let batch: [Generation] = state.withLock { s in
                let n = min(batchSize, remaining, s.pending.count)
                let batch = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                s.inFlight += n
                return batch
            }
            if batch.isEmpty { return }
            remaining -= batch.count
            do {
                try await store.record(batch)
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
                try await Task { try await self.flush() }.value
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
