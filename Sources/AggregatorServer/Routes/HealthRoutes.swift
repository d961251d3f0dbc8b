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
    let startedAt = ContinuousClock.now
    static let version = "0.1.0"

    func alive(_ request: Request, context: AppRequestContext) -> Response {
        Self.json(status: .ok) { $0.field("status", "ok") }
    }

    func ready(_ request: Request, context: AppRequestContext) async -> Response {
        let storeOK = await storeReachable()
        let bufferOK = !recorder.isFull
        let ready = storeOK && bufferOK
        return Self.json(status: ready ? .ok : .serviceUnavailable) { w in
            w.field("status", ready ? "ready" : "not_ready")
            w.field("store", storeOK ? "ok" : "unreachable")
            w.field("usage_buffer", bufferOK ? "ok" : "full")
        }
    }

    func details(_ request: Request, context: AppRequestContext) async -> Response {
        let storeOK = await storeReachable()
        let providers = await catalog.health()
        let pending = recorder.pendingCount
        let healthy = storeOK && !recorder.isFull
        let uptime = startedAt.duration(to: .now).components.seconds
        return Self.json(status: .ok) { w in
            w.field("status", healthy ? "ok" : "degraded")
            w.field("version", Self.version)
            w.field("uptime_seconds", Int(uptime))
            w.field("components") { w in
                w.field("store") { $0.field("status", storeOK ? "ok" : "unreachable") }
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
