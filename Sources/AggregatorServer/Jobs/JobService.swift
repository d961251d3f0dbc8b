import AggregatorCore
import AggregatorWire
import Foundation
import Logging

/// Async jobs: created `pending`, queued, run by a worker through the same provider path as `/v1`, every
/// change published on the event bus.
public struct JobService: Sendable {
    let store: any JobStore
    let queue: any JobQueue
    let bus: any EventBus
    let gateway: ChatGateway
    /// How often a running job shows it is alive (see `JobLease`).
    let heartbeat: Duration

    public init(
        store: any JobStore, queue: any JobQueue, bus: any EventBus, gateway: ChatGateway, heartbeat: Duration = JobLease.heartbeat
    ) {
        self.store = store
        self.queue = queue
        self.bus = bus
        self.gateway = gateway
        self.heartbeat = heartbeat
    }

    /// Stores a pending job and queues it; returns at once.
    public func create(tenantID: UUID, type: JobType, model: String, input: String) async throws -> Job {
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        let job = Job(tenantID: tenantID, type: type, status: .pending, input: input, model: model, createdAt: now, updatedAt: now)
        try await store.insertJob(job)
        bus.publish(.jobUpdated(job))
        try await queue.enqueue(job.id)
        return job
    }

    public func cancel(id: UUID, tenantID: UUID?) async throws -> Job? {
        guard let job = try await store.cancelJob(id: id, tenantID: tenantID, at: Date()) else { return nil }
        gateway.metrics?.jobFinished(.cancelled)
        bus.publish(.jobUpdated(job))
        return job
    }

    /// Runs one queued job, if it is still pending. Never finishes a job twice. While it runs, its heartbeat tells
    /// other processes' workers that it has not lost its worker.
    func run(id: UUID, logger: Logger) async {
        do {
            guard let job = try await store.claimJob(id: id, at: Date()) else { return }
            bus.publish(.jobUpdated(job))
            let alive = Task { [store, heartbeat] in
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    do { try await store.heartbeatJob(id: id, at: Date()) } catch { logger.warning("job heartbeat failed", metadata: ["job": "\(id)"]) }
                }
            }
            defer { alive.cancel() }
            var finished = job
            let now = Date()
            finished.updatedAt = now
            finished.finishedAt = now
            switch job.type {
            case .text:
                do {
                    var request = ChatCompletionRequest(
                        model: job.model ?? "", messages: [ChatMessage(role: .user, content: .text(job.input))])
                    request.stream = false
                    let (completion, generation) = try await gateway.complete(
                        request, tenantID: job.tenantID, requestID: "job_\(job.id.lowercasedText)", asyncJobID: job.id, logger: logger)
                    finished.status = .completed
                    finished.result = completion.choices.first.map { ChatGateway.outputText($0.message) } ?? ""
                    finished.provider = generation.job.provider
                    finished.model = generation.job.model
                    finished.tokensIn = generation.job.tokensIn
                    finished.tokensOut = generation.job.tokensOut
                    finished.cacheReadTokens = generation.job.cacheReadTokens
                    finished.cacheWriteTokens = generation.job.cacheWriteTokens
                    finished.cost = generation.job.cost
                } catch let error as GatewayError {
                    finished.status = .failed
                    finished.error = error.body.message
                }
            case .image:
                finished.status = .failed
                finished.error = "No provider that is on can generate images."
            }
            finished.updatedAt = Date()
            finished.finishedAt = finished.updatedAt
            if try await store.finishJob(finished) {
                gateway.metrics?.jobFinished(finished.status)
                bus.publish(.jobUpdated(finished))
            }
        } catch {
            logger.error("job failed to run", metadata: ["job": "\(id)", "error.type": "\(String(reflecting: type(of: error)))"])
        }
    }
}
