import AggregatorCore
import Foundation
import Synchronization

/// The embedded-mode event bus: fan-out to bounded per-subscriber buffers in this process.
public final class InProcessEventBus: EventBus {
    private let subscribers = Mutex<[UUID: AsyncThrowingStream<GatewayEvent, any Error>.Continuation]>([:])

    public init() {}

    public func publish(_ event: GatewayEvent) {
        let targets = subscribers.withLock { $0 }
        for (id, continuation) in targets {
            if case .dropped = continuation.yield(event) {
                // Never let a slow subscriber grow memory: cut it off.
                continuation.finish(throwing: SlowSubscriberError())
                remove(id)
            }
        }
    }

    public func subscribe(bufferSize: Int) -> AsyncThrowingStream<GatewayEvent, any Error> {
        let id = UUID()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GatewayEvent.self, bufferingPolicy: .bufferingOldest(bufferSize))
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    private func remove(_ id: UUID) {
        _ = subscribers.withLock { $0.removeValue(forKey: id) }
    }
}

