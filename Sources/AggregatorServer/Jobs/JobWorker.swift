import AggregatorCore
import Foundation
import Logging
import ServiceLifecycle

/// Takes job ids off the queue and runs them, `concurrency` at a time. At start, jobs a crash left
/// `processing` go back to `pending` and are queued again.
struct JobWorker: Service {
    let jobs: JobService
    let store: any JobStore
    let queue: any JobQueue
    let concurrency: Int
    let logger: Logger

    func run() async throws {
        for id in try await store.recoverJobs() {
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
            }
        }
    }
}
