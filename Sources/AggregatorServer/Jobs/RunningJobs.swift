import Foundation
import Synchronization

/// The jobs this process is running, so that a cancel heard from anywhere, a lost lease or shutdown can stop the
/// provider call of one of them, and say why.
final class RunningJobs: Sendable {
    enum Stop: Sendable, Hashable {
        case cancelled, leaseLost, shutdown
    }

    private struct Entry {
        var attempt: Int
        var work: Task<JobService.AttemptResult, Never>
        var stop: Stop?
    }

    private let entries = Mutex<[UUID: Entry]>([:])

    func start(_ id: UUID, attempt: Int, work: Task<JobService.AttemptResult, Never>) {
        entries.withLock { $0[id] = Entry(attempt: attempt, work: work) }
    }

    /// Stops the job's provider call, if it runs here; the first reason given is the one kept.
    func stop(_ id: UUID, because reason: Stop) {
        let work = entries.withLock { entries -> Task<JobService.AttemptResult, Never>? in
            guard var entry = entries[id] else { return nil }
            if entry.stop == nil { entry.stop = reason }
            entries[id] = entry
            return entry.work
        }
        work?.cancel()
    }

    /// Stops every running job (shutdown after the grace period).
    func stopAll(because reason: Stop) {
        for id in ids { stop(id, because: reason) }
    }

    /// Forgets the job; returns why it was stopped, if it was.
    func finish(_ id: UUID) -> Stop? {
        entries.withLock { $0.removeValue(forKey: id)?.stop }
    }

    var ids: [UUID] { entries.withLock { Array($0.keys) } }
    var count: Int { entries.withLock { $0.count } }
}
