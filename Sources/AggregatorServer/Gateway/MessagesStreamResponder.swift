import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// Streams a `/v1/messages` answer and meters it once it ends — fully, cut by the upstream, or abandoned by the
/// client (whose departure cancels the upstream request), like `StreamResponder` does for the chat path.
struct MessagesStreamResponder: Sendable {
    let gateway: ChatGateway
    let pingInterval: Duration

    /// Where a stream is metered: its request, tenant, start and target.
    struct Origin: Sendable {
        var request: AnthropicMessagesRequest
        var tenantID: UUID
        /// The job's id, also the key of its reservation against the tenant's limits.
        var jobID: UUID
        var started: Date
        var target: ResolvedTarget
        var timing: RequestTiming
    }

    /// A translated provider's chunks as Anthropic's events (`AnthropicEventEncoder`), with a `ping` whenever the
    /// upstream is silent for `pingInterval`.
    func translated(_ chunks: ChunkStream, id: String, meter: Origin, logger: Logger) -> Response {
        let gateway = self.gateway
        let pingInterval = self.pingInterval
        return response(meter: meter) { writer, clock in
            var encoder = AnthropicEventEncoder(id: id, model: meter.target.model, inputTokens: meter.request.estimatedInputTokens)
            var relay = StreamRelay(wantsUsage: false)
            var firstToken = true
            var clientGone = false
            var upstreamFailure: UpstreamError?
            var lastWrite = ContinuousClock.now
            do {
                try await writer.write(ByteBuffer(bytes: encoder.start()))
            } catch {
                clientGone = true
            }
            if !clientGone {
                // The upstream reader hands its batches to this writer one at a time (`Handoff` holds none of its
                // own): the upstream is read no faster than the client takes the frames. The ping timer is one of
                // the event loop's, offering a tick whenever the writer waits (it matters only then), and cancelled
                // at the end: a `Task.sleep` here stayed allocated until its deadline after the stream ended, so
                // thousands of short streams a second held megabytes of timers.
                let events = Handoff<StreamEvent>()
                let half = TimeAmount(pingInterval / 2)
                let ticker = MultiThreadedEventLoopGroup.singleton.any().scheduleRepeatedTask(initialDelay: half, delay: half) { _ in
                    events.offer(.tick)
                }
                defer { ticker.cancel() }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var batches = chunks.makeBatchIterator()
                        do {
                            while let batch = try await batches.next() { await events.send(.chunks(batch)) }
                            await events.send(.end)
                        } catch {
                            await events.send(.failed(error))
                        }
                    }
                    loop: while let event = await events.next() {
                        var frames: [UInt8] = []
                        switch event {
                        case .chunks(let batch):
                            for chunk in batch {
                                relay.observe(chunk)
                                encoder.frames(for: chunk, into: &frames)
                            }
                            if firstToken, !relay.producedText.isEmpty {
                                firstToken = false
                                gateway.metrics?.timeToFirstToken(
                                    provider: meter.target.provider.name, model: meter.target.model, ContinuousClock.now - clock)
                            }
                        case .tick:
                            if ContinuousClock.now - lastWrite >= pingInterval { frames = AnthropicEventEncoder.ping }
                        case .end:
                            break loop
                        case .failed(let error):
                            if !Task.isCancelled { upstreamFailure = UpstreamHTTP.map(error) }
                            break loop
                        }
                        if frames.isEmpty { continue }
                        do {
                            try await writer.write(ByteBuffer(bytes: frames))
                            lastWrite = ContinuousClock.now
                        } catch {
                            clientGone = true
                            break loop
                        }
                    }
                    // Producers still sending return at once; the upstream request is cancelled.
                    events.finish()
                    group.cancelAll()
                }
            }
            if clientGone { logger.info("client left mid-stream; upstream cancelled") }
            let (_, usage) = await gateway.meterStream(
                relay, request: meter.request.chat, target: meter.target, tenantID: meter.tenantID, started: meter.started,
                jobID: meter.jobID, clientGone: clientGone, upstreamFailure: upstreamFailure)
            if clientGone { return nil }
            if let upstreamFailure {
                logger.warning("stream failed after it began", metadata: ["error": "\(upstreamFailure.kind)"])
                return AnthropicErrors.event(GatewayError.upstream(upstreamFailure, provider: meter.target.provider.name))
            }
            var end: [UInt8] = []
            encoder.end(usage: usage, into: &end)
            return end
        }
    }

    /// Claude's event stream relayed byte for byte, read on the way for metering (`ClaudeUsageTap`). A stream that
    /// breaks off before `message_stop` gets an `error` event, so the client does not take it for a whole answer.
    func passThrough(_ answer: ClaudePassThrough, meter: Origin, logger: Logger) -> Response {
        let gateway = self.gateway
        var relayed = response(meter: meter) { writer, clock in
            var tap = ClaudeUsageTap()
            var firstToken = true
            var clientGone = false
            var upstreamFailure: UpstreamError?
            do {
                for try await buffer in answer.body {
                    tap.feed(buffer)
                    if firstToken, !tap.output.isEmpty {
                        firstToken = false
                        gateway.metrics?.timeToFirstToken(provider: meter.target.provider.name, model: meter.target.model, ContinuousClock.now - clock)
                    }
                    do {
                        try await writer.write(buffer)
                    } catch {
                        clientGone = true
                        break
                    }
                }
            } catch {
                if !Task.isCancelled { upstreamFailure = UpstreamHTTP.map(error) }
            }
            if !clientGone, upstreamFailure == nil, !tap.finished, tap.streamError == nil {
                upstreamFailure = .connection("the stream ended before message_stop")
            }
            if clientGone { logger.info("client left mid-stream; upstream cancelled") }
            let usage: Usage
            if tap.finished, let reported = tap.reportedUsage {
                usage = reported
            } else {
                usage = gateway.estimate(meter.request.chat, output: tap.output, reported: tap.reportedUsage)
            }
            let failure = clientGone ? "client disconnected" : upstreamFailure?.kind ?? tap.streamError.map { "error in stream: \($0.prefix(200))" }
            let generation = gateway.record(
                tenantID: meter.tenantID, target: meter.target, request: meter.request.chat, output: tap.output, error: failure, usage: usage,
                started: meter.started, jobID: meter.jobID)
            await gateway.settle(key: meter.jobID.lowercasedText, tenantID: meter.tenantID, generation)
            guard !clientGone, let upstreamFailure else { return nil }
            gateway.metrics?.upstreamError(provider: meter.target.provider.name, upstreamFailure)
            logger.warning("stream failed after it began", metadata: ["error": "\(upstreamFailure.kind)"])
            return AnthropicErrors.event(GatewayError.upstream(upstreamFailure, provider: meter.target.provider.name))
        }
        for (name, value) in answer.headers where name != "content-type" {
            if let field = HTTPField.Name(name) { relayed.headers[field] = value }
        }
        return relayed
    }

    private enum StreamEvent: Sendable {
        case chunks([ChatCompletionChunk])
        case tick
        case end
        case failed(any Error)
    }

    /// An SSE response whose body `relay` writes; the bytes it returns (an ending, or an `error` event) go last,
    /// unless the client left. The request's metrics are recorded when the body ends.
    private func response(
        meter: Origin,
        relay: @escaping @Sendable (inout any ResponseBodyWriter, ContinuousClock.Instant) async -> [UInt8]?
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        headers[.aggregatorProvider] = meter.target.provider.name
        for (name, value) in meter.timing.limitHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        meter.timing.markStreamed()
        let clock = ContinuousClock.now - .seconds(Date().timeIntervalSince(meter.started))
        let metrics = gateway.metrics
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let last = await relay(&writer, clock)
                metrics?.requestFinished(
                    .messages, provider: meter.target.provider.name, model: meter.target.model, stream: true, status: 200,
                    duration: ContinuousClock.now - clock)
                if let last { try? await writer.write(ByteBuffer(bytes: last)) }
                try? await writer.finish(nil)
            })
    }
}
