import AggregatorCore
import AggregatorMessaging
import Foundation
import Logging
import Testing

@testable import AggregatorServer

/// With a shared store, a worker runs again only the jobs whose worker stopped showing signs of life.
@Suite struct JobLeaseTests {
    @Test func theSweepRunsAJobThatLostItsWorkerAgainAndLeavesALiveOneAlone() async throws {
        try await TestGateway.run { gw in
            let store = try #require(gw.store as? any JobStore)
            let service = try #require(gw.app.jobs)
            let (tenant, _) = try await gw.createTenant("lease")
            let now = Date()
            func processing(_ input: String, lastSignOfLife: Date) async throws -> UUID {
                let job = Job(tenantID: tenant.id, status: .pending, input: input, model: "stub/echo", createdAt: lastSignOfLife, updatedAt: lastSignOfLife)
                try await store.insertJob(job)
                _ = try await store.claimJob(id: job.id, at: lastSignOfLife)
                return job.id
            }
            // With a lease of 1 s: `lost` is still alive when the worker starts and stale half a second later, so the
            // sweep (not the start) takes it; `live` shows a sign of life throughout.
            let lost = try await processing("lost one", lastSignOfLife: now.addingTimeInterval(-0.5))
            let live = try await processing("live one", lastSignOfLife: now.addingTimeInterval(60))

            // As another process's worker would: the store is shared, so live jobs are left alone at start.
            let queue = InProcessJobQueue()
            let worker = JobWorker(
                jobs: service, store: store, queue: queue, concurrency: 1, ownsStore: false, expiresAfter: 1, sweep: .milliseconds(20),
                logger: Logger(label: "test"))
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            var finished: Job?
            for _ in 0..<250 {
                finished = try await gw.store.job(id: lost)
                if finished?.status == .completed { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(finished?.status == .completed && finished?.result == "lost one")
            let untouched = try await gw.store.job(id: live)
            #expect(untouched?.status == .processing)
            #expect(abs(try #require(untouched).updatedAt.timeIntervalSince(now.addingTimeInterval(60))) < 0.001, "the live job's sign of life was left as it was")
            #expect(try await gw.meteredRows().filter { $0.1.id == lost }.count == 1)
            #expect(try await gw.meteredRows().filter { $0.1.id == live }.isEmpty)
        }
    }
}
