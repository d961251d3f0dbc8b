import Synchronization

/// A back-pressured handoff from a few producer tasks to one consumer, with no buffer of its own: `send` returns
/// only once the consumer took the value, so each producer holds at most the one value it is sending, and a
/// producer that reads an upstream reads it no faster than the consumer writes to its client.
///
/// `finish()` ends it: waiting and later senders return at once (their values dropped) and `next()` answers nil,
/// so that no producer stays suspended once the consumer stopped listening.
final class Handoff<Value: Sendable>: Sendable {
    private struct State {
        /// Senders waiting for the consumer, oldest first: at most one per producer task.
        var senders: [(value: Value, taken: CheckedContinuation<Void, Never>)] = []
        var receiver: CheckedContinuation<Value?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    init() {}

    /// Hands `value` to the consumer; returns once it was taken, or the handoff finished.
    func send(_ value: Value) async {
        await withCheckedContinuation { (taken: CheckedContinuation<Void, Never>) in
            let receiver: CheckedContinuation<Value?, Never>?? = state.withLock { state in
                if state.finished { return .some(nil) }
                if let receiver = state.receiver {
                    state.receiver = nil
                    return .some(receiver)
                }
                state.senders.append((value, taken))
                return nil
            }
            switch receiver {
            case nil: break  // queued: resumed when taken
            case .some(nil): taken.resume()  // finished: dropped
            case .some(let receiver?):
                receiver.resume(returning: value)
                taken.resume()
            }
        }
    }

    /// Hands `value` to the consumer only if it is waiting for one now; otherwise drops it. For values that matter
    /// only to an idle consumer (a ping timer's ticks), from code that cannot wait (a timer's callback).
    func offer(_ value: Value) {
        let receiver = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            defer { state.receiver = nil }
            return state.finished ? nil : state.receiver
        }
        receiver?.resume(returning: value)
    }

    /// The next value sent, waiting for one; nil once the handoff finished. A consumer cancelled while it waits
    /// finishes the handoff.
    func next() async -> Value? {
        await withTaskCancellationHandler {
            await receive()
        } onCancel: {
            finish()
        }
    }

    private func receive() async -> Value? {
        await withCheckedContinuation { (receiver: CheckedContinuation<Value?, Never>) in
            let found: (value: Value, taken: CheckedContinuation<Void, Never>)?? = state.withLock { state in
                if !state.senders.isEmpty { return .some(state.senders.removeFirst()) }
                if state.finished { return .some(nil) }
                state.receiver = receiver
                return nil
            }
            switch found {
            case nil: break  // waiting: resumed by the next send
            case .some(nil): receiver.resume(returning: nil)
            case .some(let sender?):
                sender.taken.resume()
                receiver.resume(returning: sender.value)
            }
        }
    }

    /// Ends the handoff: every waiting sender returns, a waiting consumer gets nil.
    func finish() {
        let (senders, receiver) = state.withLock { state in
            state.finished = true
            defer {
                state.senders = []
                state.receiver = nil
            }
            return (state.senders.map(\.taken), state.receiver)
        }
        for sender in senders { sender.resume() }
        receiver?.resume(returning: nil)
    }
}
