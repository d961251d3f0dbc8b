import AggregatorCore
import AggregatorProviders
import Logging
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

/// Scaled mode: re-reads tenants, prices and routes when another instance says it changed them (in milliseconds;
/// the directory's one-second poll is the backstop for a message that never came).
struct ConfigListener: Service {
    let bus: any EventBus
    let directory: Directory
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    for try await event in bus.subscribe(bufferSize: 1024) where event == .configChanged {
                        try? await directory.refresh()
                    }
                    return
                } catch {
                    // Fell behind: read everything again, then listen again.
                    try? await directory.refresh()
                }
            }
        }
    }
}
