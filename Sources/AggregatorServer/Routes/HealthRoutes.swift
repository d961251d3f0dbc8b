import AggregatorCore
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird

/// `/healthz` (alive, no I/O), `/readyz` (store reachable, usage buffer not full) and `/health` (details).
struct HealthRoutes {
    let store: any Store
    let recorder: UsageRecorder
    let catalog: ModelCatalog
    /// Scaled mode: whether Redis answers (nil in embedded mode).
    let redisReachable: (@Sendable () async -> Bool)?
    let startedAt = ContinuousClock.now
    static let version = "0.1.0"

    func alive(_ request: Request, context: AppRequestContext) -> Response {
        Self.json(status: .ok) { $0.field("status", "ok") }
    }

    func ready(_ request: Request, context: AppRequestContext) async -> Response {
        async let storeOK = storeReachable()
        async let redisOK = redisReachable?()
        let (store, redis) = await (storeOK, redisOK)
        let bufferOK = !recorder.isFull
        let ready = store && bufferOK && redis != false
        return Self.json(status: ready ? .ok : .serviceUnavailable) { w in
            w.field("status", ready ? "ready" : "not_ready")
            w.field("store", store ? "ok" : "unreachable")
            if let redis { w.field("redis", redis ? "ok" : "unreachable") }
            w.field("usage_buffer", bufferOK ? "ok" : "full")
        }
    }

    func details(_ request: Request, context: AppRequestContext) async -> Response {
        let storeOK = await storeReachable()
        let redisOK = await redisReachable?()
        let providers = await catalog.health()
        let pending = recorder.pendingCount
        let queue = try? await (store as? any JobStore)?.jobQueueStats()
        let healthy = storeOK && !recorder.isFull && redisOK != false
        let uptime = startedAt.duration(to: .now).components.seconds
        return Self.json(status: .ok) { w in
            w.field("status", healthy ? "ok" : "degraded")
            w.field("version", Self.version)
            w.field("uptime_seconds", Int(uptime))
            w.field("components") { w in
                w.field("store") { $0.field("status", storeOK ? "ok" : "unreachable") }
                if let redisOK { w.field("redis") { $0.field("status", redisOK ? "ok" : "unreachable") } }
                if let queue {
                    w.field("job_queue") { w in
                        w.field("pending", queue.pending)
                        w.field("processing", queue.processing)
                        let age = queue.oldestPendingCreatedAt.map { max(0, Date().timeIntervalSince($0)) }
                        w.key("oldest_pending_age_seconds")
                        if let age { w.double((age * 1000).rounded() / 1000) } else { w.null() }
                    }
                }
                w.field("usage_writer") { w in
                    w.field("status", recorder.isFull ? "full" : (recorder.isStoreHealthy ? "ok" : "retrying"))
                    w.field("pending", pending)
                }
            }
            w.key("providers")
            w.array { w in
                for p in providers {
                    w.object { w in
                        w.field("name", p.name)
                        w.field("enabled", true)
                        w.field("healthy", p.healthy)
                        w.field("streaming", p.capabilities.streaming)
                        w.field("tools", p.capabilities.tools)
                        w.field("models", p.modelCount)
                    }
                }
            }
        }
    }

    private func storeReachable() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.ping()) != nil }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    static func json(status: HTTPResponse.Status, _ body: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        writer.object(body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
