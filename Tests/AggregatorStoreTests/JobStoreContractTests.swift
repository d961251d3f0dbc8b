import AggregatorCore
import Foundation
import Testing

@testable import AggregatorStore

/// Jobs and usage reports (`JobStore`), against both stores.
@Suite("Job store contract")
struct JobStoreContractTests {
    @Test("jobs: pending → processing → completed once; cancel only pending or processing", arguments: Backend.allCases)
    func lifecycle(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let other = try await store.createTenant(name: "b", keyHash: "h2", keyPrefix: "p2")
            let at = instant("2025-03-01T10:00:00.000Z")
            let job = Job(tenantID: tenant.id, status: .pending, input: "write a poem", createdAt: at, updatedAt: at)
            try await jobs.insertJob(job)

            let claimed = try #require(try await jobs.claimJob(id: job.id, at: at.addingTimeInterval(1)))
            #expect(claimed.status == .processing && claimed.startedAt == at.addingTimeInterval(1))
            #expect(try await jobs.claimJob(id: job.id, at: at) == nil)

            var done = claimed
            done.status = .completed
            done.result = "roses"
            done.provider = "stub"
            done.model = "echo"
            done.tokensIn = 3
            done.tokensOut = 1
            done.cost = usd("0.0000050000")
            done.updatedAt = at.addingTimeInterval(2)
            done.finishedAt = at.addingTimeInterval(2)
            #expect(try await jobs.finishJob(done))
            #expect(try await !jobs.finishJob(done))
            #expect(try await store.job(id: job.id) == done)

            let second = Job(tenantID: tenant.id, status: .pending, input: "x", createdAt: at, updatedAt: at)
            try await jobs.insertJob(second)
            #expect(try await jobs.cancelJob(id: second.id, tenantID: other.id, at: at) == nil)
            let cancelled = try #require(try await jobs.cancelJob(id: second.id, tenantID: tenant.id, at: at.addingTimeInterval(3)))
            #expect(cancelled.status == .cancelled && cancelled.finishedAt == at.addingTimeInterval(3))
            #expect(try await jobs.cancelJob(id: job.id, tenantID: nil, at: at)?.status == .completed)
            #expect(try await jobs.claimJob(id: second.id, at: at) == nil)
        }
    }

    @Test("jobs: a job whose worker stopped showing signs of life goes back to pending, a live one does not", arguments: Backend.allCases)
    func requeueStale(backend: Backend) async throws {
        try await withStore(backend) { store in
            let jobs = try #require(store as? any JobStore)
            let tenant = try await store.createTenant(name: "a", keyHash: "h", keyPrefix: "p")
            let at = instant("2025-03-01T10:00:00.000Z")
            let made = (0..<3).map { i in
                Job(tenantID: tenant.id, status: .pending, input: "\(i)", createdAt: at.addingTimeInterval(Double(i)), updatedAt: at)
            }
            for job in made { try await jobs.insertJob(job) }
            let (lost, waiting, live) = (made[0], made[1], made[2])
            _ = try await jobs.claimJob(id: lost.id, at: at)
            _ = try await jobs.claimJob(id: live.id, at: at)
            try await jobs.heartbeatJob(id: live.id, at: at.addingTimeInterval(40))
            #expect(try await store.job(id: live.id)?.updatedAt == at.addingTimeInterval(40))

            // Signs of life before 10:00:30 are stale: the claim of `lost` is, the heartbeat of `live` is not.
            #expect(try await jobs.requeueStaleJobs(staleBefore: at.addingTimeInterval(30), at: at.addingTimeInterval(45)) == [lost.id])
            let requeued = try #require(try await store.job(id: lost.id))
            #expect(requeued.status == .pending && requeued.startedAt == nil && requeued.updatedAt == at.addingTimeInterval(45))
            #expect(try await store.job(id: live.id)?.status == .processing)
            #expect(try await jobs.pendingJobs() == [lost.id, waiting.id])
            #expect(try await jobs.requeueStaleJobs(staleBefore: at.addingTimeInterval(30), at: at.addingTimeInterval(46)) == [])

            // A heartbeat of a job that is not processing changes nothing.
            try await jobs.heartbeatJob(id: lost.id, at: at.addingTimeInterval(50))
            #expect(try await store.job(id: lost.id)?.updatedAt == at.addingTimeInterval(45))
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
