import AggregatorCore
import Foundation
import Testing

@testable import AggregatorStore

/// Jobs and usage reports (`JobStore`), against both stores.
@Suite("Job store contract")
struct JobStoreContractTests {
    @Test("jobs: pending → processing → completed once, fenced by the attempt; cancel only pending or processing", arguments: Backend.allCases)
    func lifecycle(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let other = try await store.createTenant(name: "b", keyHash: "h2", keyPrefix: "p2")
            let at = instant("2025-03-01T10:00:00.000Z")
            let job = Job(tenantID: tenant.id, status: .pending, input: "write a poem", createdAt: at, updatedAt: at)
            try await jobs.insertJob(job)

            let before = Date().addingTimeInterval(-1)
            let claimed = try #require(try await jobs.claimJob(id: job.id, owner: "w1", lease: JobLease()))
            #expect(claimed.status == .processing && claimed.attempts == 1 && claimed.failures == 0)
            #expect(try #require(claimed.startedAt) > before)
            #expect(try await jobs.claimJob(id: job.id, owner: "w2", lease: JobLease()) == nil)
            #expect(try await jobs.renewLease(id: job.id, attempt: 1, lease: JobLease()))
            #expect(try await !jobs.renewLease(id: job.id, attempt: 2, lease: JobLease()))

            var done = claimed
            done.status = .completed
            done.result = "roses"
            done.provider = "stub"
            done.model = "echo"
            done.tokensIn = 3
            done.tokensOut = 1
            done.cost = usd("0.0000050000")
            let usage = UsageRecord(
                tenantID: tenant.id, jobID: job.id, provider: "stub", model: "echo", tokensIn: 3, tokensOut: 1, cost: usd("0.0000050000"),
                unpriced: false, attempt: 1, createdAt: at)
            // A stale attempt writes nothing, not even its usage.
            #expect(try await jobs.finishJob(done, attempt: 2, usage: usage) == nil)
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).isEmpty)
            let finished = try #require(try await jobs.finishJob(done, attempt: 1, usage: usage))
            #expect(finished.status == .completed && finished.result == "roses" && finished.cost == usd("0.0000050000"))
            #expect(finished.attempts == 1 && finished.finishedAt != nil)
            #expect(try await jobs.finishJob(done, attempt: 1, usage: usage) == nil)
            #expect(try await store.job(id: job.id) == finished)
            #expect(try await store.usageRecords(tenantID: tenant.id, limit: 10).map(\.attempt) == [1])
            #expect(try await !jobs.renewLease(id: job.id, attempt: 1, lease: JobLease()))

            let second = Job(tenantID: tenant.id, status: .pending, input: "x", createdAt: at, updatedAt: at)
            try await jobs.insertJob(second)
            #expect(try await jobs.cancelJob(id: second.id, tenantID: other.id) == nil)
            let cancelled = try #require(try await jobs.cancelJob(id: second.id, tenantID: tenant.id))
            #expect(cancelled.status == .cancelled && cancelled.finishedAt != nil)
            #expect(try await jobs.cancelJob(id: job.id, tenantID: nil) == finished)
            #expect(try await jobs.claimJob(id: second.id, owner: "w1", lease: JobLease()) == nil)

            // A running job cancelled: its worker's lease and outcome no longer match.
            let third = Job(tenantID: tenant.id, status: .pending, input: "y", createdAt: at, updatedAt: at)
            try await jobs.insertJob(third)
            let running = try #require(try await jobs.claimJob(id: third.id, owner: "w1", lease: JobLease()))
            #expect(try await jobs.cancelJob(id: third.id, tenantID: nil)?.status == .cancelled)
            #expect(try await !jobs.renewLease(id: third.id, attempt: running.attempts, lease: JobLease()))
            var late = running
            late.status = .completed
            #expect(try await jobs.finishJob(late, attempt: running.attempts, usage: nil) == nil)
            #expect(try await jobs.retryJob(id: third.id, attempt: 1, error: "x", delay: .zero, maxAttempts: 3, usage: nil) == nil)
            #expect(try await jobs.releaseJob(id: third.id, attempt: 1) == nil)
            #expect(try await store.job(id: third.id)?.status == .cancelled)
        }
    }

    @Test("jobs: a transient failure retries after its delay, then fails when the attempts are used up; usage per attempt", arguments: Backend.allCases)
    func retries(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let at = instant("2025-03-01T10:00:00.000Z")
            let job = Job(tenantID: tenant.id, status: .pending, input: "q", createdAt: at, updatedAt: at)
            try await jobs.insertJob(job)
            func usage(_ attempt: Int) -> UsageRecord {
                UsageRecord(
                    tenantID: tenant.id, jobID: job.id, provider: "stub", model: "echo", tokensIn: 2, tokensOut: attempt, cost: usd("0.0000010000"),
                    unpriced: false, attempt: attempt, createdAt: at)
            }

            _ = try await jobs.claimJob(id: job.id, owner: "w", lease: JobLease())
            let first = try #require(
                try await jobs.retryJob(id: job.id, attempt: 1, error: "upstream status 503", delay: .zero, maxAttempts: 3, usage: usage(1)))
            #expect(first.status == .pending && first.failures == 1 && first.attempts == 1 && first.error == "upstream status 503")
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .seconds(30), limit: 10) == [job.id], "a retry is dispatched when due")

            _ = try #require(try await jobs.claimJob(id: job.id, owner: "w", lease: JobLease()))
            let second = try #require(
                try await jobs.retryJob(id: job.id, attempt: 2, error: "timed out", delay: .seconds(60), maxAttempts: 3, usage: usage(2)))
            #expect(second.status == .pending && second.failures == 2)
            // Not due for a minute: neither claimed nor dispatched.
            #expect(try await jobs.claimJob(id: job.id, owner: "w", lease: JobLease()) == nil)
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .zero, limit: 10) == [])

            let other = Job(tenantID: tenant.id, status: .pending, input: "r", createdAt: at, updatedAt: at)
            try await jobs.insertJob(other)
            _ = try await jobs.claimJob(id: other.id, owner: "w", lease: JobLease())
            let retried = try #require(try await jobs.retryJob(id: other.id, attempt: 1, error: "e1", delay: .zero, maxAttempts: 2, usage: nil))
            #expect(retried.status == .pending)
            _ = try await jobs.claimJob(id: other.id, owner: "w", lease: JobLease())
            let failed = try #require(try await jobs.retryJob(id: other.id, attempt: 2, error: "e2", delay: .zero, maxAttempts: 2, usage: nil))
            #expect(failed.status == .failed && failed.failures == 2 && failed.attempts == 2 && failed.error == "e2" && failed.finishedAt != nil)
            #expect(try await jobs.claimJob(id: other.id, owner: "w", lease: JobLease()) == nil)

            // Each attempt's usage once, however often it is written.
            try await jobs.recordAttemptUsage(usage(2))
            try await jobs.recordAttemptUsage(usage(1))
            let rows = try await store.usageRecords(tenantID: tenant.id, limit: 10)
            #expect(rows.map(\.attempt).sorted() == [1, 2])
        }
    }

    @Test("jobs: a job handed back at shutdown is pending at once and no failure; expired leases are taken back", arguments: Backend.allCases)
    func releaseAndReap(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let at = instant("2025-03-01T10:00:00.000Z")
            let made = (0..<4).map { i in
                Job(tenantID: tenant.id, status: .pending, input: "\(i)", createdAt: at.addingTimeInterval(Double(i)), updatedAt: at)
            }
            for job in made { try await jobs.insertJob(job) }
            let (handed, lost, live, poison) = (made[0], made[1], made[2], made[3])

            _ = try await jobs.claimJob(id: handed.id, owner: "w", lease: JobLease())
            #expect(try await jobs.releaseJob(id: handed.id, attempt: 2) == nil)
            let released = try #require(try await jobs.releaseJob(id: handed.id, attempt: 1))
            #expect(released.status == .pending && released.failures == 0 && released.attempts == 1)
            #expect(try await jobs.claimJob(id: handed.id, owner: "w", lease: JobLease())?.attempts == 2)

            let short = JobLease(duration: .milliseconds(1))
            _ = try await jobs.claimJob(id: lost.id, owner: "dead", lease: short)
            _ = try await jobs.claimJob(id: live.id, owner: "alive", lease: JobLease())
            _ = try await jobs.claimJob(id: poison.id, owner: "dead", lease: short)
            try await Task.sleep(for: .milliseconds(20))
            let reaped = try await jobs.reapExpiredLeases(maxAttempts: 1, limit: 100, everyLease: false)
                + jobs.reapExpiredLeases(maxAttempts: 3, limit: 100, everyLease: false)
            // `lost` and `poison` were reaped by the first call (max 1 attempt): both failed. Reap again with a new job.
            #expect(Set(reaped.map(\.id)) == [lost.id, poison.id])
            #expect(reaped.allSatisfy { $0.status == .failed && $0.failures == 1 && $0.error?.contains("lost its worker") == true })
            #expect(try await store.job(id: live.id)?.status == .processing)

            let again = Job(tenantID: tenant.id, status: .pending, input: "again", createdAt: at, updatedAt: at)
            try await jobs.insertJob(again)
            _ = try await jobs.claimJob(id: again.id, owner: "dead", lease: short)
            try await Task.sleep(for: .milliseconds(20))
            let requeued = try await jobs.reapExpiredLeases(maxAttempts: 3, limit: 100, everyLease: false)
            #expect(requeued.map(\.id) == [again.id] && requeued[0].status == .pending && requeued[0].failures == 1)
            #expect(try await !jobs.renewLease(id: again.id, attempt: 1, lease: JobLease()), "the dead worker lost its lease")
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .seconds(30), limit: 10) == [again.id])

            // The only process using an embedded store takes back every running job at start, leases or not.
            let everything = try await jobs.reapExpiredLeases(maxAttempts: 3, limit: 100, everyLease: true)
            #expect(Set(everything.map(\.id)) == [handed.id, live.id])

            let stats = try await jobs.jobQueueStats()
            #expect(stats.pending == 3 && stats.processing == 0 && stats.oldestPendingCreatedAt == handed.createdAt)
        }
    }

    @Test("jobs: of many workers racing for a job one claims it; dispatch marks jobs so the sweep does not repeat them", arguments: Backend.allCases)
    func racesAndDispatch(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let at = instant("2025-03-01T10:00:00.000Z")
            let made = (0..<5).map { i in
                Job(tenantID: tenant.id, status: .pending, input: "\(i)", createdAt: at.addingTimeInterval(Double(i)), updatedAt: at)
            }
            for job in made { try await jobs.insertJob(job) }
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .seconds(30), limit: 10) == [], "just created: the queue has them")
            // Dispatched "before now": a millisecond at least (SQLite keeps milliseconds; a fast machine can do both in one).
            try await Task.sleep(for: .milliseconds(5))
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .zero, limit: 3) == made.prefix(3).map(\.id))
            #expect(try await jobs.dispatchDueJobs(redispatchAfter: .seconds(30), limit: 10) == [])

            let claims = try await withThrowingTaskGroup(of: Job?.self) { group in
                for i in 0..<16 {
                    group.addTask { try await jobs.claimJob(id: made[0].id, owner: "w\(i)", lease: JobLease()) }
                }
                return try await group.reduce(into: [Job]()) { if let job = $1 { $0.append(job) } }
            }
            #expect(claims.count == 1 && claims[0].attempts == 1)

            // A cancel racing a completion: one of them wins, and the row says which.
            let target = made[1]
            let running = try #require(try await jobs.claimJob(id: target.id, owner: "w", lease: JobLease()))
            var done = running
            done.status = .completed
            async let finished = jobs.finishJob(done, attempt: 1, usage: nil)
            async let cancelled = jobs.cancelJob(id: target.id, tenantID: nil)
            let (f, c) = try await (finished, cancelled)
            let row = try #require(try await store.job(id: target.id))
            #expect(row.status == (f != nil ? .completed : .cancelled))
            #expect(c?.status == row.status)
        }
    }

    /// The race above, made certain on PostgreSQL: the completion is committed while the cancel waits for the row.
    /// A cancel that read the row from its statement's snapshot answered "processing" for a job that had completed.
    @Test("jobs: a cancel that waited for a completing transaction answers with the completed row")
    func cancelWaitingForACompletion() async throws {
        try await withPostgresStore { store in
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let job = Job(tenantID: tenant.id, status: .pending, input: "x", createdAt: Date(), updatedAt: Date())
            try await store.insertJob(job)
            _ = try #require(try await store.claimJob(id: job.id, owner: "w", lease: JobLease()))
            let locked = AsyncStream<Void>.makeStream()
            let cancel = Task {
                for await _ in locked.stream { break }
                return try await store.cancelJob(id: job.id, tenantID: tenant.id)
            }
            try await store.transaction { connection in
                try await connection.query("UPDATE jobs SET status = 'completed' WHERE id = \(job.id)", logger: testLogger)
                locked.continuation.yield()
                // The cancel is now blocked on this row; give it time to take its snapshot and wait.
                try await Task.sleep(for: .milliseconds(300))
            }
            let answer = try await cancel.value
            #expect(answer?.status == .completed)
            #expect(try await store.job(id: job.id)?.status == .completed)
        }
    }

    @Test("jobs: newest first, cursor pages, filters and total count", arguments: Backend.allCases)
    func pagesAndFilters(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let other = try await store.createTenant(name: "b", keyHash: "h2", keyPrefix: "p2")
            let start = instant("2025-03-01T10:00:00.000Z")
            var made: [Job] = []
            for i in 0..<7 {
                let at = start.addingTimeInterval(Double(i))
                var job = Job(
                    tenantID: i == 6 ? other.id : tenant.id, status: i % 2 == 0 ? .completed : .failed, input: "Question \(i)",
                    result: i == 3 ? "The ANSWER" : nil, provider: i < 4 ? "stub" : "openai", model: "m", createdAt: at, updatedAt: at)
                job.type = i == 5 ? .image : .text
                try await jobs.insertJob(job)
                made.append(job)
            }
            let mine = JobFilter(tenantID: tenant.id)
            let first = try await jobs.jobs(filter: mine, first: 4, after: nil)
            #expect(first.jobs.map(\.id) == made[2...5].reversed().map(\.id))
            #expect(first.hasNextPage && first.totalCount == 6)
            let last = try #require(first.jobs.last)
            let cursor = try #require(JobCursor(encoded: JobCursor(createdAt: last.createdAt, id: last.id).encoded))
            let second = try await jobs.jobs(filter: mine, first: 4, after: cursor)
            #expect(second.jobs.map(\.id) == made[0...1].reversed().map(\.id))
            #expect(!second.hasNextPage && second.totalCount == 6)

            #expect(try await jobs.jobs(filter: JobFilter(), first: 100, after: nil).totalCount == 7)
            #expect(try await jobs.jobs(filter: JobFilter(status: .failed, tenantID: tenant.id), first: 100, after: nil).jobs.map(\.id)
                == [made[5].id, made[3].id, made[1].id])
            #expect(try await jobs.jobs(filter: JobFilter(type: .image), first: 100, after: nil).jobs.map(\.id) == [made[5].id])
            #expect(try await jobs.jobs(filter: JobFilter(provider: "openai", model: "m"), first: 100, after: nil).totalCount == 3)
            #expect(try await jobs.jobs(filter: JobFilter(search: "answer"), first: 100, after: nil).jobs.map(\.id) == [made[3].id])
            #expect(try await jobs.jobs(filter: JobFilter(search: "QUESTION 2"), first: 100, after: nil).jobs.map(\.id) == [made[2].id])
            let window = JobFilter(from: start.addingTimeInterval(2), to: start.addingTimeInterval(4))
            #expect(try await jobs.jobs(filter: window, first: 100, after: nil).jobs.map(\.id) == [made[3].id, made[2].id])
        }
    }

    @Test("usage summary: grouped sums are exact, over whole days and ragged ranges", arguments: Backend.allCases)
    func usageSummary(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let a = try await store.createTenant(name: "a", keyHash: "ha", keyPrefix: "pa")
            let b = try await store.createTenant(name: "b", keyHash: "hb", keyPrefix: "pb")
            let price = ModelPrice(provider: "stub", model: "*", inputPerMillion: usd("0.1234"), outputPerMillion: usd("1.2345"))
            // Three UTC days, two tenants, two models, awkward token counts.
            var batch: [Generation] = []
            let day1 = instant("2025-01-01T00:00:00.000Z")
            for i in 0..<60 {
                let at = day1.addingTimeInterval(Double(i) * 3_600 + 0.007)
                batch.append(
                    generation(
                        tenant: i % 3 == 0 ? b.id : a.id, at: at, model: i % 2 == 0 ? "echo" : "slow", tokensIn: 1 + (i * 7_919) % 4_099,
                        tokensOut: (i * 104_729) % 8_191, price: price))
            }
            try await store.record(batch)

            func expected(_ rows: [Generation]) -> UsageAggregate? {
                let usage = rows.compactMap(\.usage)
                if usage.isEmpty { return nil }
                let tokensIn = usage.map(\.tokensIn).reduce(0, +)
                let tokensOut = usage.map(\.tokensOut).reduce(0, +)
                #expect(usage.map(\.cost).reduce(.zero, +) == price.cost(tokensIn: tokensIn, tokensOut: tokensOut))
                return UsageAggregate(requests: usage.count, tokensIn: tokensIn, tokensOut: tokensOut, cost: price.cost(tokensIn: tokensIn, tokensOut: tokensOut))
            }

            let byTenant = try await jobs.usageSummary(tenantID: nil, from: nil, to: nil, groupBy: [.tenant])
            #expect(byTenant.count == 2)
            for row in byTenant {
                var want = try #require(expected(batch.filter { $0.job.tenantID == row.tenantID }))
                want.tenantID = row.tenantID
                #expect(row == want)
            }

            let byDay = try await jobs.usageSummary(tenantID: a.id, from: nil, to: nil, groupBy: [.day, .model])
            // Groups come ordered by provider, model, tenant, day (whichever are grouped).
            #expect(byDay.map(\.model) == ["echo", "echo", "echo", "slow", "slow", "slow"])
            #expect(byDay.map(\.day) == ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01", "2025-01-02", "2025-01-03"])
            #expect(byDay.map(\.requests).reduce(0, +) == 40)

            // Ragged range: from 05:30 on day 1 to 13:00 on day 3 (whole day 2 in between).
            let from = day1.addingTimeInterval(5.5 * 3_600)
            let to = day1.addingTimeInterval(2 * 86_400 + 13 * 3_600)
            let ranges: [(Date?, Date?)] = [(from, to), (from, nil), (nil, to), (from, from.addingTimeInterval(3_600 * 3)), (day1, day1.addingTimeInterval(86_400))]
            for (lower, upper) in ranges {
                let got = try await jobs.usageSummary(tenantID: a.id, from: lower, to: upper, groupBy: [])
                let inRange = batch.filter { g in
                    g.job.tenantID == a.id && (lower.map { g.job.createdAt >= $0 } ?? true) && (upper.map { g.job.createdAt < $0 } ?? true)
                }
                #expect(got == [expected(inRange)].compactMap { $0 }, "range \(String(describing: lower)) ..< \(String(describing: upper))")
            }
            let providers = try await jobs.usageSummary(tenantID: nil, from: nil, to: nil, groupBy: [.provider, .model])
            #expect(providers.map(\.provider) == ["stub", "stub"] && providers.map(\.model) == ["echo", "slow"])
            #expect(try await jobs.usageSummary(tenantID: UUID(), from: nil, to: nil, groupBy: []).isEmpty)
        }
    }
}
