@testable import AggregatorServer
import Synchronization
import Testing

/// The handoff that carries a `/v1/messages` stream's upstream chunks and ping ticks to its writer (MESSAGES_PING_MS)
/// has no buffer: a producer is never ahead of the consumer by more than the value it is handing over.
@Suite struct HandoffTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test func aProducerWaitsUntilTheConsumerTookEachValue() async {
        let handoff = Handoff<Int>()
        let sent = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for value in 1...200 {
                    await handoff.send(value)
                    sent.value.add(1, ordering: .sequentiallyConsistent)
                }
            }
            var received: [Int] = []
            while received.count < 200, let value = await handoff.next() {
                received.append(value)
                // `send` returns only once its value was taken: the producer has completed at most as many sends as
                // the consumer took (an unbounded buffer lets it run ahead by the whole stream).
                #expect(sent.value.load(ordering: .sequentiallyConsistent) <= received.count)
            }
            #expect(received == Array(1...200))
        }
    }

    @Test func anOfferReachesOnlyAWaitingConsumerAndIsDroppedOtherwise() async {
        let handoff = Handoff<Int>()
        handoff.offer(1)  // nobody waits: dropped, nothing held
        async let next = handoff.next()
        // Offer until the consumer is waiting (each offer before that is dropped, as a tick would be).
        let offered = Task {
            var value = 100
            while !Task.isCancelled {
                value += 1
                handoff.offer(value)
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let got = await next
        offered.cancel()
        await offered.value
        #expect(got.map { $0 > 100 } == true, "\(String(describing: got))")
        // A sender's value still comes through whole after the offers, and nothing offered was kept for later.
        async let sent: Void = handoff.send(7)
        #expect(await handoff.next() == 7)
        await sent
        handoff.finish()
        handoff.offer(9)
        #expect(await handoff.next() == nil)
    }

    @Test func finishReleasesWaitingSendersAndEndsTheConsumer() async {
        let handoff = Handoff<Int>()
        await withTaskGroup(of: Void.self) { group in
            // Two producers, as in a stream (upstream reader and ping timer); nobody takes their values.
            for value in 1...2 { group.addTask { await handoff.send(value) } }
            #expect(await handoff.next() != nil)
            handoff.finish()
            // Both producers return (the group ends) and the consumer sees the end.
            await group.waitForAll()
            #expect(await handoff.next() == nil)
            await handoff.send(3)
            #expect(await handoff.next() == nil)
        }
    }

    @Test func aCancelledConsumerStopsWaiting() async {
        let handoff = Handoff<Int>()
        let consumer = Task { await handoff.next() }
        consumer.cancel()
        #expect(await consumer.value == nil)
        // Finished by the cancellation: a late sender does not wait for a consumer that left.
        await handoff.send(1)
    }
}
