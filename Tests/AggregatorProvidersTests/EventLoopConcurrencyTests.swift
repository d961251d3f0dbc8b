import Foundation
import Testing

/// The global executor the `aggregator` binary installs: tasks on NIO's shared loops, running as the generic
/// executor so that entering a nonisolated async function does not queue the task behind the loop's other work.
///
/// The hook is process-wide, so it is installed in a probe process of its own (`aggregator-executor-probe`):
/// installed here it would move the tasks of every test running alongside onto NIO's loops.
struct EventLoopConcurrencyTests {
    @Test func tasksRunOnTheSharedLoopsAndEnterNonisolatedFunctionsWithoutRequeueing() async throws {
        let output = try await runProbe()
        #expect(
            output == """
                install: true
                second install: false
                task on a shared loop: true
                queued loop work ran first: false

                """)
    }

    /// Runs the probe, built next to this test bundle, and returns what it printed; throws when it did not exit 0.
    func runProbe() async throws -> String {
        let probe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("aggregator-executor-probe")
        let process = Process()
        process.executableURL = probe
        let stdout = Pipe()
        process.standardOutput = stdout
        let status = try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { done.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { done.resume(throwing: error) }
        }
        let printed = String(decoding: try stdout.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self)
        guard status == 0 else { throw ProbeFailed(status: status, output: printed) }
        return printed
    }

    struct ProbeFailed: Error {
        var status: Int32
        var output: String
    }
}
