import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AggregatorProviders

/// The global executor the `aggregator` binary installs: tasks on NIO's shared loops, running as the generic
/// executor so that entering a nonisolated async function does not queue the task behind the loop's other work.
@Suite(.serialized)
struct EventLoopConcurrencyTests {
    @Test func tasksRunOnTheSharedLoopsAndEnterNonisolatedFunctionsWithoutRequeueing() async throws {
        #expect(EventLoopConcurrency.install())
        defer { EventLoopConcurrency.uninstall() }
        #expect(!EventLoopConcurrency.install(), "a second install finds the hook taken")

        let (onSharedLoop, queuedWorkRanFirst) = await Task.detached { () -> (Bool, Bool) in
            guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return (false, false) }
            let shared = MultiThreadedEventLoopGroup.singleton.makeIterator().contains { $0 === loop }
            // Work queued on this loop now runs only once the task gives the loop back. Entering a
            // nonisolated async function must not do that: with the job running as the loop's serial executor
            // (SwiftNIO's own hook) the entry hop to the generic executor queues the task behind this work.
            let ran = Flag()
            loop.execute { ran.value.withLock { $0 = true } }
            await enterNonisolatedFunction()
            return (shared, ran.value.withLock { $0 })
        }.value
        #expect(onSharedLoop)
        #expect(!queuedWorkRanFirst)
    }
}

@inline(never)
nonisolated func enterNonisolatedFunction() async {}

private final class Flag: Sendable {
    let value = Mutex(false)
}
