import AggregatorCore
import Foundation
import Logging
import ServiceLifecycle

/// Takes job ids off the queue and runs them, `concurrency` at a time.
///
/// At start every pending job is queued (the in-process queue did not outlive the last process), and jobs whose
/// worker crashed go back to `pending`: with the embedded store every `processing` job (this process owns the
/// file), with a shared store only those without a sign of life for `JobLease.expiresAfter` — the others are
/// running in another process, and running them again would call the provider and meter the tenant twice.
/// While it runs, it looks for such jobs every `sweep` and queues them again.
struct JobWorker: Service {
    let jobs: JobService
    let store: any JobStore
    let queue: any JobQueue
    let concurrency: Int
    /// True when no other process uses the store (embedded SQLite).
    let ownsStore: Bool
    var expiresAfter: TimeInterval = JobLease.expiresAfter
    var sweep: Duration = JobLease.heartbeat
    let logger: Logger

    func run() async throws {
        let now = Date()
        _ = try await store.requeueStaleJobs(staleBefore: ownsStore ? .distantFuture : now - expiresAfter, at: now)
        for id in try await store.pendingJobs() {
            try await queue.enqueue(id)
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while !Task.isCancelled {
                            guard let id = try? await queue.next() else { return }
                            // A job that started runs to its end even if shutdown began meanwhile.
                            await Task { await jobs.run(id: id, logger: logger) }.value
                        }
                    }
                }
                group.addTask {
                    while (try? await Task.sleep(for: sweep)) != nil {
                        await requeueStaleJobs()
                    }
                }
            }
        }
    }

    /// Queues again the jobs whose worker crashed (in any process).
    func requeueStaleJobs() async {
        do {
            let now = Date()
            for id in try await store.requeueStaleJobs(staleBefore: now - expiresAfter, at: now) {
                logger.warning("job lost its worker; queued again", metadata: ["job": "\(id)"])
                try await queue.enqueue(id)
            }
        } catch {
            logger.warning("looking for jobs that lost their worker failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
    }
}
