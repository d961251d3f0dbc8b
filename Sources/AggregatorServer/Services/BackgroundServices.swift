import AggregatorCore
import AggregatorProviders
import ServiceLifecycle

/// The usage writer as a service: flushes until graceful shutdown, then writes every pending row.
struct UsageRecorderService: Service {
    let recorder: UsageRecorder

    func run() async throws {
        await cancelWhenGracefulShutdown { await recorder.run() }
    }
}

/// Keeps the in-memory directory (keys, prices, routes) in step with the store.
struct DirectoryService: Service {
    let directory: Directory

    func run() async throws {
        await cancelWhenGracefulShutdown { await directory.run() }
    }
}

/// Owns the shared upstream HTTP clients and shuts them down last.
struct HTTPClientService: Service {
    let clients: UpstreamClients

    func run() async throws {
        try? await gracefulShutdown()
        try await clients.shutdown()
    }
}
