import AggregatorCore
import AggregatorWire
import AsyncHTTPClient
import NIOCore

/// A Claude answer relayed as it came (SPEC §15): status, the headers a client of Anthropic reads, and the body,
/// streamed or whole.
public struct ClaudePassThrough: Sendable {
    public let headers: [(String, String)]
    public let body: HTTPClientResponse.Body

    /// The whole body of a non-streamed answer, up to `limit` bytes.
    public func collect(limit: Int = 32 * 1024 * 1024) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw UpstreamHTTP.map(error)
        }
    }
}

/// Claude refused a passed-through request: the error as the gateway classifies it (for fallbacks and metering)
/// and the answer exactly as Anthropic sent it, which the client gets unmodified (Claude Code matches on the
/// wording of Anthropic's errors).
public struct ClaudeRefusal: Error, Sendable {
    public let error: UpstreamError
    public let status: Int
    public let body: [UInt8]
    public let headers: [(String, String)]
}

extension ClaudeProvider {
    /// Headers of a client's request that travel to Anthropic: the API version and the betas, verbatim (never an
    /// allowlist of betas: Claude Code's change every release).
    public static let forwardedRequestHeaders = ["anthropic-version", "anthropic-beta"]
    /// Headers of Anthropic's answer that travel back to the client.
    static let relayedResponseHeaders = ["content-type", "request-id", "retry-after", "anthropic-organization-id"]

    /// Sends a Messages API body (`path`: `/v1/messages` or `/v1/messages/count_tokens`) to Anthropic as it is,
    /// with our key and the client's `anthropic-*` headers. Returns once the answer's head arrived; a non-2xx
    /// answer is read (bounded) and thrown as `ClaudeRefusal`.
    public func passThrough(path: String, body: [UInt8], clientHeaders: [(String, String)], stream: Bool) async throws -> ClaudePassThrough {
        var headers: [(String, String)] = [("x-api-key", apiKey)]
        if !clientHeaders.contains(where: { $0.0 == "anthropic-version" }) { headers.append(("anthropic-version", Self.apiVersion)) }
        headers += clientHeaders
        let request = http.jsonRequest(url: baseURL + path, body: body, headers: headers)
        let response: HTTPClientResponse
        do {
            response = try await http.clients.current.execute(request, timeout: stream ? .hours(24) : .nanoseconds(UpstreamHTTP.nanoseconds(http.timeout)))
        } catch {
            throw UpstreamHTTP.map(error)
        }
        var relayed: [(String, String)] = []
        for field in response.headers {
            let name = field.name.lowercased()
            if Self.relayedResponseHeaders.contains(name) || name.hasPrefix("anthropic-ratelimit-") { relayed.append((name, field.value)) }
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = (try? await http.collect(response.body, limit: 1024 * 1024)) ?? []
            throw ClaudeRefusal(
                error: UpstreamHTTP.statusError(status: status, body: body, headers: response.headers), status: status, body: body, headers: relayed)
        }
        return ClaudePassThrough(headers: relayed, body: response.body)
    }
}

/// Reads a relayed Claude answer on its way to the client, for metering only: usage (cache tokens included; a
/// stream's counts are cumulative, the last report wins) and the text and tool input produced. The bytes
/// themselves go to the client untouched.
public struct ClaudeUsageTap: Sendable {
    private var parser = ServerSentEventParser()
    private var usage: ClaudeWire.Usage?
    public private(set) var output = ""
    /// `message_stop` arrived.
    public private(set) var finished = false
    /// The message of an `error` event in the stream.
    public private(set) var streamError: String?

    public init() {}

    /// What Anthropic reported so far, in the gateway's terms (`promptTokens` counts cache reads and writes).
    public var reportedUsage: Usage? { usage?.openAI }

    /// Follows a piece of a streamed answer. Bytes that do not read as events are the client's business: the
    /// tap never fails the relay.
    public mutating func feed(_ bytes: ByteBuffer) {
        guard let events = try? parser.feed(bytes.readableBytesView) else { return }
        for event in events {
            guard let decoded = try? JSONReader.decode(ClaudeWire.StreamEvent.self, from: event.dataBytes) else { continue }
            switch decoded {
            case .messageStart(let message): usage = (usage ?? ClaudeWire.Usage()).updated(with: message.usage)
            case .messageDelta(_, let newer): usage = (usage ?? ClaudeWire.Usage()).updated(with: newer)
            case .contentBlockStart(_, .text(let text)): output += text
            case .contentBlockDelta(_, .text(let text)), .contentBlockDelta(_, .inputJSON(let text)): output += text
            case .messageStop: finished = true
            case .error(let detail): streamError = detail.message
            default: break
            }
        }
    }

    /// Reads a whole (non-streamed) answer.
    public mutating func read(answer: [UInt8]) {
        guard let message = try? JSONReader.decode(ClaudeWire.Response.self, from: answer) else { return }
        usage = message.usage
        for block in message.content {
            switch block {
            case .text(let text): output += text
            case .toolUse(_, _, let input): output += input.jsonText
            case .other: break
            }
        }
        finished = true
    }
}
