import AggregatorCore
import Foundation
import Synchronization

/// The embedded-mode job queue: ids handed to in-process workers in FIFO order; each id to one worker.
public final class InProcessJobQueue: JobQueue {
    private struct State {
        var ids: [UUID] = []
        var waiters: [(id: UUID, continuation: CheckedContinuation<UUID, any Error>)] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func enqueue(_ ids: [UUID]) async throws {
        for id in ids { push(id) }
    }

    public func consume(
        concurrency: Int, lostData: @escaping @Sendable () async -> Void, _ handle: @escaping @Sendable (UUID) async -> Void
    ) async throws {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    while let id = try? await self.next() {
                        await handle(id)
                    }
                }
            }
        }
    }

    public func depth() async -> Int? { count }

    private func push(_ id: UUID) {
        let waiter: CheckedContinuation<UUID, any Error>? = state.withLock { s in
            if s.waiters.isEmpty {
                s.ids.append(id)
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: id)
    }

    /// The next id; waits until there is one. Throws `CancellationError` when cancelled.
    public func next() async throws -> UUID {
        let token = UUID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: UUID?? = state.withLock { s in
                    if Task.isCancelled { return .some(nil) }
                    if !s.ids.isEmpty { return .some(s.ids.removeFirst()) }
                    s.waiters.append((token, continuation))
                    return nil
                }
                switch ready {
                case .some(.some(let id)): continuation.resume(returning: id)
                case .some(.none): continuation.resume(throwing: CancellationError())
                case .none: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<UUID, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == token }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    public var count: Int { state.withLock { $0.ids.count } }
}
