// Installs the `aggregator` binary's global executor (EventLoopConcurrency) in a process of its own and prints
// what a task then sees. EventLoopConcurrencyTests runs it: installed inside the test process, the hook would
// move every other test's tasks onto NIO's loops while it is in place.
import AggregatorProviders
import NIOCore
import NIOPosix
import Synchronization

@main
enum ExecutorProbe {
    static func main() async {
        // As in `aggregator`: on the main thread, before other tasks start.
        print("install: \(EventLoopConcurrency.install())")
        print("second install: \(EventLoopConcurrency.install())")
        let (onSharedLoop, queuedWorkRanFirst) = await Task.detached { () -> (Bool, Bool) in
            guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return (false, false) }
            let shared = MultiThreadedEventLoopGroup.singleton.makeIterator().contains { $0 === loop }
            // Work queued on this loop now runs only once the task gives the loop back. Entering a nonisolated
            // async function must not do that: with the job running as the loop's serial executor (SwiftNIO's own
            // hook) the entry hop to the generic executor queues the task behind this work.
            let ran = Mutex(false)
            loop.execute { ran.withLock { $0 = true } }
            await enterNonisolatedFunction()
            return (shared, ran.withLock { $0 })
        }.value
        print("task on a shared loop: \(onSharedLoop)")
        print("queued loop work ran first: \(queuedWorkRanFirst)")
    }
}

@inline(never)
nonisolated func enterNonisolatedFunction() async {}
