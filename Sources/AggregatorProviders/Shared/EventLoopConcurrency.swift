#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Swift concurrency's global executor on NIO's shared event loops, so request handling hops no threads.
///
/// SwiftNIO's own `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` does the same but runs
/// each job *as the event loop's serial executor*. The runtime then never sees the task on the generic executor, so
/// every call into a nonisolated async function (each starts with a hop to the generic executor) is queued on the
/// loop again instead of continuing in place: ~75 loop round trips per proxied request, measured with a probe on
/// `swift_task_enqueue`. We run each job on the generic executor instead, as the runtime's own global executor does;
/// those hops then cost nothing. Jobs enqueued from one of the group's loops stay on it; others go to the next loop.
public enum EventLoopConcurrency {
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the hook. Call once, from the main thread, before any task starts. Returns false where the
    /// runtime offers no hook or another one is installed (the global executor then stays as it was).
    @discardableResult
    public static func install() -> Bool {
        // The hook's type is the runtime's, not a public API: only on the compilers whose runtimes it was checked
        // with (the same range SwiftNIO accepts for its own hook).
        #if compiler(<6.6)
        guard let slot = hookSlot, slot.pointee == nil else { return false }
        slot.pointee = { job, _ in
            // The caller's loop when it is one of the group's, else the next one.
            MultiThreadedEventLoopGroup.singleton.any().execute { swiftJobRun(job, genericExecutor) }
        }
        return true
        #else
        return false
        #endif
    }

    private static var hookSlot: UnsafeMutablePointer<EnqueueGlobalHook?>? {
        dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook")?.assumingMemoryBound(to: EnqueueGlobalHook?.self)
    }
}

/// The runtime's entry for running a job on an executor (what `UnownedJob.runSynchronously(on:)` calls).
@_silgen_name("swift_job_run")
private func swiftJobRun(_ job: UnownedJob, _ executor: UnownedSerialExecutor)

/// The generic executor's reference: both words zero, as the runtime spells `SerialExecutorRef::generic()`.
private let genericExecutor = unsafeBitCast((Int(0), Int(0)), to: UnownedSerialExecutor.self)
