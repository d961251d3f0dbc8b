import AggregatorCore
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Relays an open upstream stream to the client as server-sent events and meters it once it ends — fully,
/// cut by the upstream, or abandoned by the client (whose departure cancels the upstream request).
/// The framing is the caller's: OpenAI chunks for `/v1`, `token`/`usage`/`done` events for `/stream`.
struct StreamResponder: Sendable {
    /// How one API frames a stream.
    struct Framing: Sendable {
        /// A frame for a chunk, or nil when the client should not see it.
        var chunk: @Sendable (ChatCompletionChunk, inout StreamRelay) -> [UInt8]?
        /// Frames after the last chunk, once metered.
        var end: @Sendable (Generation) -> [UInt8]
        var error: @Sendable (GatewayError) -> [UInt8]
    }

    let gateway: ChatGateway

    func response(
        chunks: ChunkStream, target: ResolvedTarget, request: ChatCompletionRequest, tenantID: UUID, started: Date, jobID: UUID,
        framing: Framing, metered: (operation: GatewayMetrics.Operation, timing: RequestTiming), logger: Logger
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[.aggregatorProvider] = target.provider.name
        for (name, value) in metered.timing.limitHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let gateway = self.gateway
        // The stream's end is metered here; the request's head, by MetricsMiddleware.
        metered.timing.markStreamed()
        let clock = ContinuousClock.now - .seconds(Date().timeIntervalSince(started))
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var relay = StreamRelay(wantsUsage: request.wantsStreamUsage)
                var firstToken = true
                var clientGone = false
                var upstreamFailure: UpstreamError?
                do {
                    var batches = chunks.makeBatchIterator()
                    while let batch = try await batches.next() {
                        // The chunks one upstream read completed go out in one write.
                        var frames = ByteBuffer()
                        for chunk in batch {
                            if let frame = framing.chunk(chunk, &relay) { frames.writeBytes(frame) }
                        }
                        if firstToken, !relay.producedText.isEmpty {
                            firstToken = false
                            gateway.metrics?.timeToFirstToken(provider: target.provider.name, model: target.model, ContinuousClock.now - clock)
                        }
                        if frames.readableBytes == 0 { continue }
                        do {
                            try await writer.write(frames)
                        } catch {
                            clientGone = true
                            throw error
                        }
                    }
                } catch {
                    if clientGone || Task.isCancelled {
                        logger.info("client left mid-stream; upstream cancelled")
                    } else {
                        upstreamFailure = (error as? UpstreamError) ?? UpstreamError.connection("stream failed")
                    }
                }
                let (generation, _) = await gateway.meterStream(
                    relay, request: request, target: target, tenantID: tenantID, started: started, jobID: jobID, clientGone: clientGone,
                    upstreamFailure: upstreamFailure)
                gateway.metrics?.requestFinished(
                    metered.operation, provider: target.provider.name, model: target.model, stream: true, status: 200,
                    duration: ContinuousClock.now - clock)
                if clientGone { return }
                if let upstreamFailure {
                    logger.warning("stream failed after it began", metadata: ["error": "\(upstreamFailure.kind)"])
                    try? await writer.write(ByteBuffer(bytes: framing.error(GatewayError.upstream(upstreamFailure, provider: target.provider.name))))
                } else {
                    try? await writer.write(ByteBuffer(bytes: framing.end(generation)))
                }
                try? await writer.finish(nil)
            })
    }
}

extension StreamResponder.Framing {
    /// `/v1/chat/completions`: OpenAI chunks, `data: [DONE]`, errors as one `data: {"error":…}` event.
    static let openAI = StreamResponder.Framing(
        chunk: { chunk, relay in relay.frame(for: chunk) },
        end: { _ in ServerSentEvent.done },
        error: { error in ServerSentEvent.dataFrame(error.body.jsonBytes) })
}
