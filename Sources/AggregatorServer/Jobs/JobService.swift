import AggregatorCore
import AggregatorWire
import Foundation
import Logging

/// How jobs are run (SPEC §3, §8).
public struct JobSettings: Sendable, Hashable {
    /// `JOB_MAX_ATTEMPTS`: transient failures and lost workers a job survives before it is `failed`.
    public var maxAttempts: Int
    /// `JOB_LEASE_SECONDS`.
    public var lease: JobLease
    /// `WORKER_CONCURRENCY`.
    public var concurrency: Int
    /// The first retry waits about this long, each next one twice as long, never more than `retryCap`.
    public var retryBase: Duration
    public var retryCap: Duration
    /// How often a worker takes back jobs whose lease ran out and dispatches due jobs a queue did not get.
    public var sweepEvery: Duration
    /// A pending job the queue was told about this long ago and that no worker took is dispatched again.
    public var redispatchAfter: Duration
    /// On SIGTERM, running jobs get this long to finish before they are handed back.
    public var shutdownGrace: Duration

    public init(
        maxAttempts: Int = 3, lease: JobLease = JobLease(), concurrency: Int = 8, retryBase: Duration = .seconds(1),
        retryCap: Duration = .seconds(60), sweepEvery: Duration = .seconds(1), redispatchAfter: Duration = .seconds(30),
        shutdownGrace: Duration = .seconds(20)
    ) {
        self.maxAttempts = maxAttempts
        self.lease = lease
        self.concurrency = concurrency
        self.retryBase = retryBase
        self.retryCap = retryCap
        self.sweepEvery = sweepEvery
        self.redispatchAfter = redispatchAfter
        self.shutdownGrace = shutdownGrace
    }

    /// The wait before the retry that follows the `failures`-th failure: `retryBase` × 2^(failures − 1), capped,
    /// less up to a fifth at random so that jobs that failed together do not come back together.
    public func retryDelay(afterFailures failures: Int) -> Duration {
        let doubled = retryBase * (1 << min(max(failures - 1, 0), 20))
        let capped = min(doubled, retryCap)
        return capped - capped * Double.random(in: 0..<0.2)
    }
}

/// Async jobs: created `pending`, dispatched through the queue, run by a worker through the same provider path as
/// `/v1` (streamed, so followers see tokens as they come), every change published on the event bus.
///
/// The job's row is the truth (SPEC §8). A worker's writes are fenced by the attempt number its claim returned, so a
/// worker whose job was cancelled, taken back or taken over writes nothing but the usage of what it generated.
public struct JobService: Sendable {
    let store: any JobStore
    let queue: any JobQueue
    let bus: any EventBus
    let tokens: any JobTokenLog
    let gateway: ChatGateway
    let settings: JobSettings
    /// Jobs running in this process.
    let running: RunningJobs
    /// This process's name on the leases it holds.
    let owner: String

    public init(
        store: any JobStore, queue: any JobQueue, bus: any EventBus, tokens: any JobTokenLog, gateway: ChatGateway, settings: JobSettings,
        owner: String = JobService.processName()
    ) {
        self.store = store
        self.queue = queue
        self.bus = bus
        self.tokens = tokens
        self.gateway = gateway
        self.settings = settings
        self.running = RunningJobs()
        self.owner = owner
    }

    /// `host:pid:random`: what a lease says about who holds it (for people reading the table).
    public static func processName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(RandomPool.uuid().lowercasedText.prefix(8))"
    }

    /// Stores a pending job and dispatches it; returns at once. A dispatch that fails is left to the sweep.
    public func create(tenantID: UUID, type: JobType, model: String, input: String, logger: Logger) async throws -> Job {
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        let job = Job(tenantID: tenantID, type: type, status: .pending, input: input, model: model, createdAt: now, updatedAt: now)
        try await store.insertJob(job)
        bus.publish(.jobUpdated(job))
        do {
            try await queue.enqueue([job.id])
        } catch {
            logger.warning("job queued only in the store; the sweep will dispatch it", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        return job
    }

    /// Cancels a pending or running job. A running job's provider call stops: here at once, on another instance when
    /// it hears the event (or, should it miss it, at its next lease renewal).
    public func cancel(id: UUID, tenantID: UUID?) async throws -> Job? {
        guard let job = try await store.cancelJob(id: id, tenantID: tenantID) else { return nil }
        if job.status == .cancelled {
            running.stop(id, because: .cancelled)
            gateway.metrics?.jobFinished(.cancelled)
            bus.publish(.jobUpdated(job))
        }
        return job
    }

    /// What one attempt's generation came to.
    enum AttemptResult {
        case completed(Generation)
        /// `partial`: what a stream produced before it broke, metered with the failure.
        case failed(GatewayError, partial: Generation?)
        /// Stopped from outside (cancel, lost lease, shutdown); `partial` as above.
        case stopped(partial: Generation?)
    }

    /// Runs one dispatched job if it can be claimed. Never finishes a job twice; meters each attempt at most once.
    func run(id: UUID, logger: Logger) async {
        let job: Job
        do {
            guard let claimed = try await store.claimJob(id: id, owner: owner, lease: settings.lease) else { return }
            job = claimed
        } catch {
            logger.warning("claiming a job failed; the sweep will dispatch it again", metadata: ["job": "\(id)", "error": "\(error)"])
            return
        }
        let attempt = job.attempts
        var logger = logger
        logger[metadataKey: "job"] = "\(id)"
        logger[metadataKey: "attempt"] = "\(attempt)"
        bus.publish(.jobUpdated(job))

        let work = Task { await generate(job, logger: logger) }
        running.start(id, attempt: attempt, work: work)
        let lease = Task { await keepLease(of: job) }
        let result = await work.value
        lease.cancel()
        let stop = running.finish(id)
        await tokens.end(jobID: id, attempt: attempt)
        do {
            try await settle(job, result: result, stop: stop, logger: logger)
        } catch {
            // The lease runs out and the job is taken back: delayed, not lost.
            logger.error("writing a job's outcome failed", metadata: ["error": "\(String(describing: error).prefix(300))"])
        }
    }

    /// Writes how the attempt ended, fenced by its attempt number.
    func settle(_ job: Job, result: AttemptResult, stop: RunningJobs.Stop?, logger: Logger) async throws {
        let attempt = job.attempts
        switch result {
        case .completed(let generation): await gateway.settle(key: Self.limitKey(job), tenantID: job.tenantID, generation)
        case .failed(_, let partial), .stopped(let partial): await gateway.settle(key: Self.limitKey(job), tenantID: job.tenantID, partial)
        }
        switch result {
        case .completed(let generation):
            var outcome = job
            outcome.status = .completed
            outcome.result = generation.job.result
            copyMetering(from: generation, to: &outcome)
            let usage = generation.usage.map { attempted($0, attempt) }
            if let finished = try await store.finishJob(outcome, attempt: attempt, usage: usage) {
                gateway.metrics?.jobFinished(.completed)
                bus.publish(.jobUpdated(finished))
                published(usage)
            } else {
                try await meterLostAttempt(usage)
            }
        case .stopped(let partial):
            let usage = partial?.usage.map { attempted($0, attempt) }
            if stop == .shutdown, let released = try await store.releaseJob(id: job.id, attempt: attempt) {
                logger.notice("job handed back at shutdown")
                bus.publish(.jobUpdated(released))
                try? await queue.enqueue([job.id])
            }
            try await meterLostAttempt(usage)
        case .failed(let error, let partial):
            let usage = partial?.usage.map { attempted($0, attempt) }
            if Self.isTransient(error) {
                let delay = settings.retryDelay(afterFailures: job.failures + 1)
                guard let retried = try await store.retryJob(
                    id: job.id, attempt: attempt, error: error.body.message, delay: delay, maxAttempts: settings.maxAttempts, usage: usage)
                else { return try await meterLostAttempt(usage) }
                logger.warning(
                    retried.status == .failed ? "job failed: no attempts left" : "job failed; will retry",
                    metadata: ["error": "\(error.body.message.prefix(200))", "retry_in": "\(delay)"])
                gateway.metrics?.jobRetriedOrFailed(retried.status)
                bus.publish(.jobUpdated(retried))
                published(usage)
            } else {
                var outcome = job
                outcome.status = .failed
                outcome.error = error.body.message
                if let partial { copyMetering(from: partial, to: &outcome) }
                guard let finished = try await store.finishJob(outcome, attempt: attempt, usage: usage) else {
                    return try await meterLostAttempt(usage)
                }
                gateway.metrics?.jobFinished(.failed)
                bus.publish(.jobUpdated(finished))
                published(usage)
            }
        }
    }

    /// Usage of an attempt that no longer held its job: what it generated was paid for upstream, so it is metered,
    /// once (keyed by job and attempt), without touching the job.
    func meterLostAttempt(_ usage: UsageRecord?) async throws {
        guard let usage else { return }
        try await store.recordAttemptUsage(usage)
        published(usage)
    }

    /// A usage row the store took: subscribers hear of it, and the metrics count it.
    func published(_ usage: UsageRecord?) {
        guard let usage else { return }
        bus.publish(.usageRecorded(usage))
        gateway.metrics?.usageRowsWritten(1)
    }

    func attempted(_ usage: UsageRecord, _ attempt: Int) -> UsageRecord {
        var usage = usage
        usage.attempt = attempt
        return usage
    }

    func copyMetering(from generation: Generation, to job: inout Job) {
        job.provider = generation.job.provider
        job.model = generation.job.model
        job.tokensIn = generation.job.tokensIn
        job.tokensOut = generation.job.tokensOut
        job.cacheReadTokens = generation.job.cacheReadTokens
        job.cacheWriteTokens = generation.job.cacheWriteTokens
        job.cost = generation.job.cost
    }

    /// The key of an attempt's reservation against the tenant's limits.
    static func limitKey(_ job: Job) -> String { "\(job.id.lowercasedText)#\(job.attempts)" }

    /// SPEC §8: a connection error, timeout, 429 or 5xx is worth another try; anything else fails the job at once.
    /// An exhausted budget is not: it lasts until the day or month ends.
    static func isTransient(_ error: GatewayError) -> Bool {
        (error.status == 429 && error.body.code != "insufficient_quota") || error.status >= 500
    }

    /// The provider call, streamed: text goes to the token log as it arrives. Cancellation ends it at the next chunk.
    func generate(_ job: Job, logger: Logger) async -> AttemptResult {
        guard job.type == .text else {
            return .failed(
                GatewayError(status: 400, body: .init(message: "No provider that is on can generate images.", type: "invalid_request_error")),
                partial: nil)
        }
        let request = ChatCompletionRequest(model: job.model ?? "", messages: [ChatMessage(role: .user, content: .text(job.input))], stream: true)
        let started = Date()
        let opened: (ChunkStream, ResolvedTarget)
        do {
            opened = try await gateway.openStream(
                request, tenantID: job.tenantID, requestID: "job_\(job.id.lowercasedText)", started: started, recordsRefusal: false,
                limitKey: Self.limitKey(job), logger: logger)
        } catch let error as GatewayError {
            return Task.isCancelled ? .stopped(partial: nil) : .failed(error, partial: nil)
        } catch {
            return Task.isCancelled ? .stopped(partial: nil) : .failed(.internalError(), partial: nil)
        }
        let (chunks, target) = opened
        var relay = StreamRelay(wantsUsage: true)
        func measured(error: String?) -> Generation {
            gateway.measure(
                tenantID: job.tenantID, target: target, request: request, output: relay.output, error: error,
                usage: relay.usage ?? gateway.estimate(request, output: relay.producedText, reported: relay.usageSoFar), started: started,
                jobID: job.id)
        }
        do {
            var batches = chunks.makeBatchIterator()
            while let batch = try await batches.next() {
                var text = ""
                for chunk in batch {
                    _ = relay.frame(for: chunk)
                    for choice in chunk.choices { text += choice.delta.content ?? "" }
                }
                if !text.isEmpty { await tokens.append(jobID: job.id, attempt: job.attempts, text: text) }
                try Task.checkCancellation()
            }
            return .completed(measured(error: nil))
        } catch let error as UpstreamError {
            if Task.isCancelled { return .stopped(partial: measured(error: "stopped")) }
            gateway.metrics?.upstreamError(provider: target.provider.name, error)
            return .failed(GatewayError.upstream(error, provider: target.provider.name), partial: measured(error: error.kind))
        } catch {
            return Task.isCancelled ? .stopped(partial: measured(error: "stopped")) : .failed(.internalError(), partial: measured(error: "\(error)"))
        }
    }

    /// Renews the attempt's lease every third of it. When the store says the attempt lost the job (cancelled, taken
    /// back), or when no renewal got through for most of the lease (this process lost the database), the attempt
    /// stops: the job is someone else's now.
    func keepLease(of job: Job) async {
        var renewed = ContinuousClock.now
        while true {
            do {
                try await Task.sleep(for: settings.lease.renewEvery)
            } catch {
                return
            }
            do {
                if try await store.renewLease(id: job.id, attempt: job.attempts, lease: settings.lease) {
                    renewed = .now
                } else {
                    running.stop(job.id, because: .leaseLost)
                    return
                }
            } catch {
                if renewed.duration(to: .now) > settings.lease.duration * 0.8 {
                    running.stop(job.id, because: .leaseLost)
                    return
                }
            }
        }
    }

    /// Every pending job that is due and that no queue got (or got long ago) goes to the queue again; jobs whose
    /// lease ran out are taken back first. `everyLease`: at the start of the only process using the store.
    func sweep(everyLease: Bool = false, redispatchAll: Bool = false, logger: Logger) async {
        do {
            let reaped = try await store.reapExpiredLeases(maxAttempts: settings.maxAttempts, limit: 1000, everyLease: everyLease)
            for job in reaped {
                logger.warning(
                    job.status == .failed ? "job lost its worker too often; failed" : "job lost its worker; queued again",
                    metadata: ["job": "\(job.id)", "attempts": "\(job.attempts)"])
                gateway.metrics?.jobRetriedOrFailed(job.status)
                bus.publish(.jobUpdated(job))
            }
            if redispatchAll {
                // One pass: with no wait, the rows it marks would match again in a next pass, without end.
                let due = try await store.dispatchDueJobs(redispatchAfter: .zero, limit: 100_000)
                if !due.isEmpty { try await queue.enqueue(due) }
            } else {
                // Rows just marked are not due again for `redispatchAfter`: the loop ends.
                while true {
                    let due = try await store.dispatchDueJobs(redispatchAfter: settings.redispatchAfter, limit: 1000)
                    if !due.isEmpty { try await queue.enqueue(due) }
                    if due.count < 1000 { break }
                }
            }
        } catch {
            logger.warning("job sweep failed", metadata: ["error": "\(String(describing: error).prefix(300))"])
        }
    }
}
