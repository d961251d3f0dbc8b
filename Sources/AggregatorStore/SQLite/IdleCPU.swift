import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Linux's idle scheduling class (`SCHED_IDLE`): a thread in it runs only on CPU no normal thread wants.
enum IdleScheduling {
    /// `SCHED_IDLE` from the kernel's `uapi/linux/sched.h` (Glibc hides it behind `_GNU_SOURCE`).
    static let policy: Int32 = 5

    /// Moves the calling thread into the idle class; true when it is there. A thread can always lower its own
    /// priority; it could not come back without `CAP_SYS_NICE`, which is why the background writer has a thread
    /// of its own instead of switching one back and forth.
    static func enterForCurrentThread() -> Bool {
        #if os(Linux)
        var parameters = sched_param(sched_priority: 0)
        return sched_setscheduler(0, policy, &parameters) == 0
        #else
        return false
        #endif
    }
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
