import AggregatorCore
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `/stream` for browsers (SPEC §6): `event: token` (`{"text"}`), `event: usage` (`{"tokensIn","tokensOut","cost"}`),
/// `event: done` (`{"jobId"}`), or `event: error`. `GET /stream/jobs/{id}` follows an async job the same way.
struct StreamRoutes {
    let gateway: ChatGateway
    let store: any Store
    let bus: any EventBus
    let tokens: any JobTokenLog
    let maxRequestBytes: Int

    /// `{"model", "messages"}` or `{"model", "prompt"}`.
    struct Body: Decodable {
        var model: String
        var messages: [ChatMessage]?
        var prompt: String?
    }

    func generate(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard case .tenant(let tenant) = try context.requirePrincipal() else {
            throw GatewayError.forbidden("The admin key cannot make generations: use a tenant's key.")
        }
        let bytes = try await RequestBody.collect(request, limit: maxRequestBytes)
        let body = try ChatRequestValidator.decodeStrictly(Body.self, from: bytes)
        let messages = body.messages ?? body.prompt.map { [ChatMessage(role: .user, content: .text($0))] } ?? []
        guard !messages.isEmpty else { throw GatewayError.badRequest("Send 'messages' or 'prompt'.", param: "messages") }
        var chat = ChatCompletionRequest(model: body.model, messages: messages, stream: true)
        try ChatRequestValidator.validate(chat)
        chat.streamOptions = nil
        let started = Date()
        let jobID = RandomPool.uuid()
        let (chunks, target) = try await gateway.openStream(
            chat, tenantID: tenant.id, requestID: context.requestID, started: started, timing: context.timing, limitKey: jobID.lowercasedText,
            logger: context.logger)
        return StreamResponder(gateway: gateway).response(
            chunks: chunks, target: target, request: chat, tenantID: tenant.id, started: started, jobID: jobID, framing: .browser,
            metered: (.stream, context.timing), logger: context.logger)
    }

    func follow(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw GatewayError.notFound("No such job.")
        }
        // Subscribe before reading, so no change between the read and the subscription is missed.
        let events = bus.subscribe(bufferSize: 256)
        // Another tenant's job reads as missing, not as forbidden.
        guard let job = try await store.job(id: id), principal.isAdmin || job.tenantID == principal.tenantID else {
            throw GatewayError.notFound("No such job.")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let pieces = job.status.isFinal ? nil : tokens.follow(jobID: id)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: Self.statusFrame(job)))
                var (final, streamed) = (job, false)
                if let pieces {
                    (final, streamed) = try await Self.relay(job: job, events: events, pieces: pieces) { bytes in
                        try await writer.write(ByteBuffer(bytes: bytes))
                    }
                }
                try await writer.write(ByteBuffer(bytes: Self.endFrames(final, streamedText: streamed)))
                try await writer.finish(nil)
            })
    }

    /// What a follower of a running job sees until the job ends: a `status` frame per change and a `token` frame per
    /// piece the current attempt generated (a retry starts over). Returns the job as it ended, once the end of its
    /// last attempt's tokens was read too (or a second after, should that marker never come: a worker that died), and
    /// whether that attempt's text was sent piece by piece.
    static func relay(
        job: Job, events: AsyncThrowingStream<GatewayEvent, any Error>, pieces: AsyncThrowingStream<JobTokenEvent, any Error>,
        write: (_ bytes: [UInt8]) async throws -> Void
    ) async throws -> (Job, streamed: Bool) {
        enum Item: Sendable {
            case job(Job)
            case piece(JobTokenEvent)
            case waitedLongEnough
        }
        let (items, sink) = AsyncStream.makeStream(of: Item.self)
        let id = job.id
        let feeders = [
            Task {
                for try await event in events {
                    if case .jobUpdated(let updated) = event, updated.id == id { sink.yield(.job(updated)) }
                }
            },
            Task {
                for try await piece in pieces { sink.yield(.piece(piece)) }
            },
        ]
        defer {
            for feeder in feeders { feeder.cancel() }
            sink.finish()
        }
        var current = job
        var attempt = job.attempts
        var ended: Set<Int> = []
        var streamed: Set<Int> = []
        var final: Job?
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        for await item in items {
            switch item {
            case .job(let updated):
                guard updated.updatedAt >= current.updatedAt || updated.status.isFinal else { continue }
                if updated.status != current.status { try await write(statusFrame(updated)) }
                current = updated
                if updated.status.isFinal {
                    final = updated
                    if updated.status != .completed || ended.contains(updated.attempts) {
                        return (updated, streamed.contains(updated.attempts))
                    }
                    timer = Task {
                        try? await Task.sleep(for: .seconds(1))
                        sink.yield(.waitedLongEnough)
                    }
                }
            case .piece(.text(let text, let from)):
                guard from >= attempt else { continue }
                attempt = from
                streamed.insert(from)
                try await write(ServerSentEvent(event: "token", data: JSONWriter.object { $0.field("text", text) }).bytes)
            case .piece(.ended(let from)):
                ended.insert(from)
                if let final, final.attempts == from { return (final, streamed.contains(from)) }
            case .waitedLongEnough:
                if let final { return (final, streamed.contains(final.attempts)) }
            }
        }
        throw CancellationError()
    }
    static func statusFrame(_ job: Job) -> [UInt8] {
        ServerSentEvent(event: "status", data: JSONWriter.object { $0.field("status", job.status.rawValue) }).bytes
    }

    /// The last frames: the result as one `token` (unless it was streamed piece by piece), `usage` and `done`; or
    /// the `error`.
    static func endFrames(_ job: Job, streamedText: Bool = false) -> [UInt8] {
        switch job.status {
        case .completed:
            return (streamedText ? [] : ServerSentEvent(event: "token", data: JSONWriter.object { $0.field("text", job.result ?? "") }).bytes)
                + usageFrame(tokensIn: job.tokensIn, tokensOut: job.tokensOut, cost: job.cost) + doneFrame(job.id)
        default:
            let message = job.status == .cancelled ? "The job was cancelled." : (job.error ?? "The job failed.")
            return ServerSentEvent(event: "error", data: JSONWriter.object { $0.field("message", message); $0.field("jobId", job.id.lowercasedText) }).bytes
        }
    }

    static func usageFrame(tokensIn: Int, tokensOut: Int, cost: Money) -> [UInt8] {
        ServerSentEvent(
            event: "usage",
            data: JSONWriter.object { w in
                w.field("tokensIn", tokensIn)
                w.field("tokensOut", tokensOut)
                w.field("cost", cost.description)
            }
        ).bytes
    }

    static func doneFrame(_ jobID: UUID) -> [UInt8] {
        ServerSentEvent(event: "done", data: JSONWriter.object { $0.field("jobId", jobID.lowercasedText) }).bytes
    }
}

extension StreamResponder.Framing {
    /// `/stream`: `token` events, then `usage` and `done`, or one `error` event.
    static let browser = StreamResponder.Framing(
        chunk: { chunk, relay in
            _ = relay.frame(for: chunk)
            guard let text = chunk.choices.first?.delta.content, !text.isEmpty else { return nil }
            return ServerSentEvent(event: "token", data: JSONWriter.object { $0.field("text", text) }).bytes
        },
        end: { generation in
            StreamRoutes.usageFrame(
                tokensIn: generation.job.tokensIn, tokensOut: generation.job.tokensOut, cost: generation.job.cost)
                + StreamRoutes.doneFrame(generation.job.id)
        },
        error: { error in
            ServerSentEvent(
                event: "error",
                data: JSONWriter.object { w in
                    w.field("message", error.body.message)
                    w.field("type", error.body.type)
                    w.field("code", error.body.code)
                }
            ).bytes
        })
}

extension JSONWriter {
    /// Compact JSON text of one object.
    static func object(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.object(body)
        return writer.string
    }
}
