import AggregatorCore
import Foundation
import Logging
import ServiceLifecycle

/// Takes job ids off the queue and runs them, `WORKER_CONCURRENCY` at a time (SPEC §8).
///
/// At start, and every `sweepEvery`, jobs whose lease ran out are taken back and due jobs that the queue lost are
/// dispatched again; at start an embedded store (one process owns the file) takes back every running job, since
/// no other process can be running it. A cancel heard on the event bus (from any instance) stops the job's provider
/// call if it runs here. On graceful shutdown no new job is taken; running ones get `shutdownGrace` to finish and
/// are then handed back at once.
struct JobWorker: Service {
    let jobs: JobService
    let bus: any EventBus
    /// True when no other process uses the store (embedded SQLite).
    let ownsStore: Bool
    let logger: Logger

    func run() async throws {
        let settings = jobs.settings
        await jobs.sweep(everyLease: ownsStore, redispatchAll: true, logger: logger)
        let listener = Task { await stopCancelledJobs() }
        let sweeper = Task {
            while (try? await Task.sleep(for: settings.sweepEvery)) != nil {
                await jobs.sweep(logger: logger)
            }
        }
        defer {
            listener.cancel()
            sweeper.cancel()
        }
        let consuming = Task {
            try await jobs.queue.consume(
                concurrency: settings.concurrency,
                lostData: { [jobs, logger] in
                    logger.warning("the queue lost its data; dispatching every pending job again")
                    await jobs.sweep(redispatchAll: true, logger: logger)
                },
                { [jobs, logger] id in
                    // A job that started runs on when shutdown begins: it is stopped (and handed back) only after the
                    // grace period.
                    await Task { await jobs.run(id: id, logger: logger) }.value
                })
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                do {
                    try await consuming.value
                } catch {
                    logger.error("the job queue failed", metadata: ["error": "\(String(describing: error).prefix(300))"])
                }
            } onGracefulShutdown: {
                handBackAfterGrace(stopping: consuming)
            }
        } onCancel: {
            // Cancelled outright (not a graceful shutdown): stop everything now.
            consuming.cancel()
            sweeper.cancel()
            listener.cancel()
            jobs.running.stopAll(because: .shutdown)
        }
    }

    /// Graceful shutdown: no new jobs; running ones are handed back if they have not ended after the grace period.
    func handBackAfterGrace(stopping consuming: Task<Void, any Error>) {
        let grace = jobs.settings.shutdownGrace
        consuming.cancel()
        Task { [jobs, logger] in
            try? await Task.sleep(for: grace)
            let left = jobs.running.count
            if left > 0 {
                logger.notice("grace period over; handing running jobs back", metadata: ["jobs": "\(left)"])
                jobs.running.stopAll(because: .shutdown)
            }
        }
    }

    /// Stops the provider call of a job cancelled on another instance, when it runs here.
    func stopCancelledJobs() async {
        while !Task.isCancelled {
            do {
                for try await event in bus.subscribe(bufferSize: 4096) {
                    if case .jobUpdated(let job) = event, job.status == .cancelled {
                        jobs.running.stop(job.id, because: .cancelled)
                    }
                }
                return
            } catch {
                // Fell behind: the leases catch what was missed; listen again.
                continue
            }
        }
    }
}
