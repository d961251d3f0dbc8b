import AggregatorProviders
import NIOCore
import NIOPosix
import Testing

@Suite struct UpstreamClientsTests {
    /// Code running on an event loop gets the client whose connections live on that loop, so an upstream call never
    /// moves the request to another thread.
    @Test func codeOnAnEventLoopGetsThatLoopsClient() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let clients = UpstreamClients(timeout: .seconds(1), group: group)
        let loops = Array(group.makeIterator())
        for loop in loops {
            let sameLoop = try await loop.submit { clients.current.eventLoopGroup === loop }.get()
            #expect(sameLoop)
        }
        // Off the group's threads each call takes the next loop's client in turn: all three are used.
        var seen = Set<ObjectIdentifier>()
        for _ in loops { seen.insert(ObjectIdentifier(clients.current.eventLoopGroup as AnyObject)) }
        #expect(seen == Set(loops.map { ObjectIdentifier($0 as AnyObject) }))
        try await clients.shutdown()
        try await group.shutdownGracefully()
    }
}
