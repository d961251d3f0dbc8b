import AggregatorCore
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/chat/completions` (SPEC §5): plain JSON or SSE chunks ending in `data: [DONE]`.
struct ChatCompletionsRoute {
    let gateway: ChatGateway
    let maxRequestBytes: Int

    func handle(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard case .tenant(let tenant) = principal else {
            throw GatewayError.forbidden("The admin key cannot make generations: use a tenant's key.")
        }
        let body = try await RequestBody.collect(request, limit: maxRequestBytes)
        var chat = try ChatRequestValidator.decode(body)
        if !chat.isStreaming { chat.streamOptions = nil }
        if chat.isStreaming {
            return try await stream(chat, tenantID: tenant.id, context: context)
        }
        let (completion, generation) = try await gateway.complete(
            chat, tenantID: tenant.id, requestID: context.requestID, timing: context.timing, logger: context.logger)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.aggregatorProvider] = generation.job.provider
        for (name, value) in context.timing.limitHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: completion.jsonBytes)))
    }

    private func stream(_ chat: ChatCompletionRequest, tenantID: UUID, context: AppRequestContext) async throws -> Response {
        let started = Date()
        let jobID = RandomPool.uuid()
        let (chunks, target) = try await gateway.openStream(
            chat, tenantID: tenantID, requestID: context.requestID, started: started, timing: context.timing, limitKey: jobID.lowercasedText,
            logger: context.logger)
        return StreamResponder(gateway: gateway).response(
            chunks: chunks, target: target, request: chat, tenantID: tenantID, started: started, jobID: jobID, framing: .openAI,
            metered: (.chat, context.timing), logger: context.logger)
    }
}

enum RequestBody {
    /// The whole body, refusing (413) anything over `limit` bytes.
    static func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        guard let bytes = try await collectIfWithin(request, limit: limit) else { throw GatewayError.requestTooLarge(limit: limit) }
        return bytes
    }

    /// The whole body, or nil when it is over `limit` bytes however it is framed: by its declared length before
    /// reading, and a body without one (chunked) as it passes the limit (`collect(upTo:)` throws NIOTooManyBytesError).
    static func collectIfWithin(_ request: Request, limit: Int) async throws -> [UInt8]? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return nil }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return nil
        }
    }
}
