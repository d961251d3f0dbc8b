import AggregatorCore
import Synchronization

/// The events of one subscription: the bus's bounded stream, narrowed to what this subscriber may see.
/// Ends with `SlowSubscriberError` when the subscriber falls behind.
public struct SubscriptionEvents: AsyncSequence, Sendable {
    public typealias Element = any Sendable
    let base: AsyncThrowingStream<GatewayEvent, any Error>
    let select: @Sendable (GatewayEvent) -> (any Sendable)?

    init(_ base: AsyncThrowingStream<GatewayEvent, any Error>, select: @escaping @Sendable (GatewayEvent) -> (any Sendable)?) {
        self.base = base
        self.select = select
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<GatewayEvent, any Error>.AsyncIterator
        let select: @Sendable (GatewayEvent) -> (any Sendable)?

        public mutating func next() async throws -> (any Sendable)? {
            while let event = try await base.next() {
                if let value = select(event) { return value }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), select: select) }
}

/// The root value of a subscription's setup run: the subscription field's resolver hands its event
/// stream here (with arguments coerced by the executor) instead of resolving a value.
final class SubscriptionProbe: Sendable {
    struct Captured: Error {}
    private let events = Mutex<SubscriptionEvents?>(nil)

    func capture(_ stream: SubscriptionEvents) { events.withLock { $0 = stream } }
    var captured: SubscriptionEvents? { events.withLock { $0 } }
}
