import Synchronization

/// What one request learns on its way through the gateway that its response head and its metrics need: the time
/// spent waiting on upstreams (so the gateway's own time is the rest), and the target that answered.
final class RequestTiming: Sendable {
    private struct State {
        var upstream: Duration = .zero
        var provider: String?
        var model: String?
        var streamed = false
        var limitHeaders: [(String, String)] = []
    }

    private let state = Mutex(State())

    /// Waited on an upstream for `duration` (each target tried counts).
    func addUpstream(_ duration: Duration) {
        state.withLock { $0.upstream += duration }
    }

    /// The target being asked (the last one asked is the one that answered, or failed for good).
    func answered(provider: String, model: String) {
        state.withLock {
            $0.provider = provider
            $0.model = model
        }
    }

    /// The response is a stream whose end the stream itself meters.
    func markStreamed() {
        state.withLock { $0.streamed = true }
    }

    /// The `x-ratelimit-*` headers of a tenant with limits (SPEC §16), set when its reservation fit.
    var limitHeaders: [(String, String)] {
        get { state.withLock { $0.limitHeaders } }
        set { state.withLock { $0.limitHeaders = newValue } }
    }

    var upstream: Duration { state.withLock { $0.upstream } }
    var target: (provider: String?, model: String?) { state.withLock { ($0.provider, $0.model) } }
    var isStreamed: Bool { state.withLock { $0.streamed } }
}
