import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/messages` and `POST /v1/messages/count_tokens` (SPEC §15): Anthropic's Messages API for the Anthropic
/// SDKs and Claude Code, on any provider. Errors are answered in Anthropic's format by `ErrorMiddleware`.
struct MessagesRoute {
    let gateway: MessagesGateway
    let maxRequestBytes: Int
    let pingInterval: Duration

    func handle(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenantID = try Self.tenantID(context)
        let messages = try await read(request, requireMaxTokens: true)
        let started = Date()
        let jobID = RandomPool.uuid()
        let (answer, target) = try await gateway.open(
            messages, clientHeaders: Self.forwardedHeaders(request), tenantID: tenantID, jobID: jobID, requestID: context.requestID,
            started: started, timing: context.timing, logger: context.logger)
        let meter = MessagesStreamResponder.Origin(
            request: messages, tenantID: tenantID, jobID: jobID, started: started, target: target, timing: context.timing)
        let streams = MessagesStreamResponder(gateway: gateway.chat, pingInterval: pingInterval)
        switch answer {
        case .stream(let chunks):
            return streams.translated(chunks, id: AnthropicMessagesAnswer.messageID(requestID: context.requestID), meter: meter, logger: context.logger)
        case .claude(let passThrough) where messages.stream:
            return streams.passThrough(passThrough, meter: meter, logger: context.logger)
        case .claude(let passThrough):
            return try await relayWhole(passThrough, meter: meter)
        case .completion(let completion):
            let (_, usage) = await gateway.chat.meterAnswer(
                completion, request: messages.chat, target: target, tenantID: tenantID, started: started, jobID: jobID)
            let body = AnthropicMessagesAnswer.encode(
                completion, id: AnthropicMessagesAnswer.messageID(requestID: context.requestID), usage: usage)
            return Self.json(body, provider: target.provider.name, limitHeaders: context.timing.limitHeaders)
        }
    }

    func countTokens(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try Self.tenantID(context)
        let messages = try await read(request, requireMaxTokens: false)
        let (body, provider) = try await gateway.countTokens(messages, clientHeaders: Self.forwardedHeaders(request))
        return Self.json(body, provider: provider)
    }

    /// A non-streamed Claude answer: read whole for its usage, then sent as it came.
    private func relayWhole(_ answer: ClaudePassThrough, meter: MessagesStreamResponder.Origin) async throws -> Response {
        let body: [UInt8]
        do {
            body = try await answer.collect()
        } catch let error as UpstreamError {
            let generation = gateway.chat.record(
                tenantID: meter.tenantID, target: meter.target, request: meter.request.chat, output: nil, error: error.kind, usage: nil,
                started: meter.started, jobID: meter.jobID)
            await gateway.chat.settle(key: meter.jobID.lowercasedText, tenantID: meter.tenantID, generation)
            throw GatewayError.upstream(error, provider: meter.target.provider.name)
        }
        var tap = ClaudeUsageTap()
        tap.read(answer: body)
        let generation = gateway.chat.record(
            tenantID: meter.tenantID, target: meter.target, request: meter.request.chat, output: tap.output, error: nil,
            usage: tap.reportedUsage ?? gateway.chat.estimate(meter.request.chat, output: tap.output), started: meter.started,
            jobID: meter.jobID)
        await gateway.chat.settle(key: meter.jobID.lowercasedText, tenantID: meter.tenantID, generation)
        var response = Self.json(body, provider: meter.target.provider.name, limitHeaders: meter.timing.limitHeaders)
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }

    private func read(_ request: Request, requireMaxTokens: Bool) async throws -> AnthropicMessagesRequest {
        let body = try await RequestBody.collect(request, limit: maxRequestBytes)
        do {
            return try AnthropicMessagesRequest(body: body, requireMaxTokens: requireMaxTokens)
        } catch {
            throw GatewayError.badRequest(error.message)
        }
    }

    private static func tenantID(_ context: AppRequestContext) throws -> UUID {
        guard case .tenant(let tenant) = try context.requirePrincipal() else {
            throw GatewayError.forbidden("The admin key cannot make generations: use a tenant's key.")
        }
        return tenant.id
    }

    /// `anthropic-version` and `anthropic-beta` as the client sent them, for a Claude target.
    private static func forwardedHeaders(_ request: Request) -> [(String, String)] {
        var headers: [(String, String)] = []
        for name in ClaudeProvider.forwardedRequestHeaders {
            guard let field = HTTPField.Name(name) else { continue }
            let values = request.headers[values: field]
            if !values.isEmpty { headers.append((name, values.joined(separator: ","))) }
        }
        return headers
    }

    private static func json(_ body: [UInt8], provider: String, limitHeaders: [(String, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.aggregatorProvider] = provider
        for (name, value) in limitHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
