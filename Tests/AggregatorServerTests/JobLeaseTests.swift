import AggregatorCore
import AggregatorMessaging
import Foundation
import Logging
import Testing

@testable import AggregatorServer

/// With a shared store, a worker runs again only the jobs whose lease ran out, never one whose worker is alive.
@Suite struct JobLeaseTests {
    @Test func theSweepRunsAJobThatLostItsWorkerAgainAndLeavesALiveOneAlone() async throws {
        try await TestGateway.run { gw in
            let store = try #require(gw.store as? any JobStore)
            let running = try #require(gw.app.jobs)
            let (tenant, _) = try await gw.createTenant("lease")
            func processing(_ input: String, lease: JobLease) async throws -> UUID {
                let job = Job(tenantID: tenant.id, status: .pending, input: input, model: "stub/echo", createdAt: Date(), updatedAt: Date())
                try await store.insertJob(job)
                _ = try await store.claimJob(id: job.id, owner: "another process", lease: lease)
                return job.id
            }
            // `lost`'s worker died: its lease of 200 ms runs out. `live`'s lease holds for a minute.
            let lost = try await processing("lost one", lease: JobLease(duration: .milliseconds(200)))
            let live = try await processing("live one", lease: JobLease(duration: .seconds(60)))

            // As another process's worker would: the store is shared, so live jobs are left alone at start.
            var settings = JobSettings()
            settings.sweepEvery = .milliseconds(20)
            let service = JobService(
                store: store, queue: InProcessJobQueue(), bus: running.bus, tokens: InProcessJobTokenLog(), gateway: running.gateway,
                settings: settings)
            let worker = JobWorker(jobs: service, bus: running.bus, ownsStore: false, logger: Logger(label: "test"))
            let task = Task { try await worker.run() }
            defer { task.cancel() }
            var finished: Job?
            for _ in 0..<250 {
                finished = try await gw.store.job(id: lost)
                if finished?.status == .completed { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(finished?.status == .completed && finished?.result == "lost one")
            #expect(finished?.attempts == 2 && finished?.failures == 1)
            let untouched = try #require(try await gw.store.job(id: live))
            #expect(untouched.status == .processing && untouched.attempts == 1)
            let usage = try await store.usageRecordsOfJob(lost, store: gw.store)
            #expect(usage.map(\.attempt) == [2])
            #expect(try await gw.meteredRows().filter { $0.1.id == live }.isEmpty)
        }
    }
}

extension JobStore {
    /// The usage rows of one job.
    func usageRecordsOfJob(_ id: UUID, store: any Store) async throws -> [UsageRecord] {
        try await store.usageRecords(tenantID: nil, limit: 10_000).filter { $0.jobID == id }
    }
}
