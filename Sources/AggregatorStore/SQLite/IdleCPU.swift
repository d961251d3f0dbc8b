import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Linux's idle scheduling class (`SCHED_IDLE`): a thread in it runs only on CPU no normal thread wants.
enum IdleScheduling {
    /// `SCHED_IDLE` from the kernel's `uapi/linux/sched.h` (Glibc hides it behind `_GNU_SOURCE`).
    static let policy: Int32 = 5

    /// Moves a thread (0: the calling one) into the idle class; true when it is there. A thread can always lower
    /// its own priority.
    static func enter(thread: Int32 = 0) -> Bool {
        set(thread, policy)
    }

    /// Moves a thread back to the normal class; true when it is there. Leaving the idle class needs
    /// `CAP_SYS_NICE` (or an RLIMIT_NICE of 20), which many deployments do not grant.
    static func leave(thread: Int32 = 0) -> Bool {
        #if os(Linux)
        set(thread, Int32(SCHED_OTHER))
        #else
        false
        #endif
    }

    /// The scheduling policy of a thread (0: the calling one), -1 when it cannot be read.
    static func policy(of thread: Int32 = 0) -> Int32 {
        #if os(Linux)
        sched_getscheduler(thread)
        #else
        -1
        #endif
    }

    /// The kernel's id of the calling thread (what `gettid()` returns; Glibc hides that behind `_GNU_SOURCE`).
    static func currentThreadID() -> Int32? {
        #if os(Linux)
        var target = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &target, target.count - 1)
        guard n > 0 else { return nil }
        // "PID/task/TID"
        return String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: "/").last.flatMap { Int32($0) }
        #else
        return nil
        #endif
    }

    private static func set(_ thread: Int32, _ policy: Int32) -> Bool {
        #if os(Linux)
        var parameters = sched_param(sched_priority: 0)
        return sched_setscheduler(thread, policy, &parameters) == 0
        #else
        return false
        #endif
    }
}

/// The background connection's one thread, in the idle class, and the bound on how long a write there may hold
/// SQLite's write lock at that priority.
///
/// A starved idle-class thread inside a transaction makes every writer on the main connection wait for it: a
/// priority inversion, seconds long on a saturated machine (seen in the test suite with the CPU busy). So a write
/// still running after `liftAfter` has its thread lifted to the normal class until it ends. Where the thread could
/// not be lifted (no `CAP_SYS_NICE`), the store does not use the idle class at all.
final class IdleWriterThread: Sendable {
    /// The kernel's id of the thread.
    let id: Int32
    let liftAfter: Duration
    private let state = Mutex<(writes: Int, lifted: Bool)>((0, false))

    init(id: Int32, liftAfter: Duration) {
        self.id = id
        self.liftAfter = liftAfter
    }

    /// Puts the calling thread into the idle class when it can also be lifted out again; nil otherwise (the thread
    /// then stays, or is put back, in the normal class).
    static func enterCurrent(liftAfter: Duration) -> IdleWriterThread? {
        guard let id = IdleScheduling.currentThreadID(), IdleScheduling.enter() else { return nil }
        guard IdleScheduling.leave(), IdleScheduling.enter() else {
            // Stuck in the idle class: such a thread would hold the write lock at idle priority without bound.
            return nil
        }
        return IdleWriterThread(id: id, liftAfter: liftAfter)
    }

    /// Runs `body` (a write on the thread's connection), lifting the thread when it is still running after
    /// `liftAfter`; the thread is back in the idle class once no write is running.
    func write<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        state.withLock { $0.writes += 1 }
        let watchdog = Task { [self] in
            try await Task.sleep(for: liftAfter)
            lift()
        }
        defer {
            watchdog.cancel()
            state.withLock { state in
                state.writes -= 1
                if state.writes == 0, state.lifted {
                    state.lifted = !IdleScheduling.enter(thread: id)
                }
            }
        }
        return try await body()
    }

    /// Moves the thread to the normal class while a write runs.
    func lift() {
        state.withLock { state in
            guard state.writes > 0, !state.lifted else { return }
            state.lifted = IdleScheduling.leave(thread: id)
        }
    }

    var isLifted: Bool { state.withLock { $0.lifted } }
}

/// How busy the machine is, from Linux's `/proc/stat`.
final class HostCPU: Sendable {
    /// The machine's idle (idle + iowait) and total CPU time, in ticks, since boot.
    struct Sample: Equatable {
        var idle: UInt64
        var total: UInt64
    }

    /// A machine that was idle for less than this share of its CPU time is too busy for idle-class work.
    static let spareShare = 0.10
    /// Fewer ticks than this since the last sample (the kernel counts in 10 ms ticks per CPU) say nothing; the
    /// last answer stands, and the window grows until it is long enough.
    static let minimumTicks: UInt64 = 10
    private let state = Mutex<(since: Sample, answer: Bool)>((Sample(idle: 0, total: 0), true))

    /// True when at least `spareShare` of the machine's CPU time was idle since the previous answer (the first
    /// call measures since boot). True where `/proc/stat` cannot be read: there is no idle class to starve in.
    func hadSpareCPU() -> Bool {
        guard let now = Self.read() else { return true }
        return state.withLock { state in
            guard let answer = Self.hasSpare(from: state.since, to: now) else { return state.answer }
            state = (now, answer)
            return answer
        }
    }

    /// Whether the idle share between two samples reaches `spareShare`; nil when they are too close to tell.
    static func hasSpare(from a: Sample, to b: Sample) -> Bool? {
        guard b.total >= a.total + minimumTicks else { return nil }
        // iowait, counted as idle, can go backwards on some kernels: then there was no idle time to speak of.
        let idle = b.idle >= a.idle ? b.idle - a.idle : 0
        return Double(idle) >= spareShare * Double(b.total - a.total)
    }

    /// The sample in the `cpu` line: user nice system idle iowait irq softirq steal (guest time is already
    /// counted in user).
    static func parse(_ line: Substring) -> Sample? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.first == "cpu", fields.count >= 9 else { return nil }
        let ticks = fields[1...8].compactMap { UInt64($0) }
        guard ticks.count == 8 else { return nil }
        return Sample(idle: ticks[3] + ticks[4], total: ticks.reduce(0, +))
    }

    static func read() -> Sample? {
        #if os(Linux)
        let fd = Glibc.open("/proc/stat", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n", maxSplits: 1).first.flatMap(parse)
        #else
        return nil
        #endif
    }
}
