import AggregatorWire

/// What a provider can do, for `/health` and the GraphQL `providers` query.
public struct ProviderCapabilities: Sendable, Hashable {
    public var streaming: Bool
    public var tools: Bool

    public init(streaming: Bool = true, tools: Bool = true) {
        self.streaming = streaming
        self.tools = tools
    }
}

/// A request on its way to one provider: the client's OpenAI request with `model` already resolved to the
/// provider's own model name.
public struct ProviderRequest: Sendable {
    public var chat: ChatCompletionRequest
    public var requestID: String

    public init(chat: ChatCompletionRequest, requestID: String) {
        self.chat = chat
        self.requestID = requestID
    }

    public var model: String { chat.model }
}

/// One upstream AI service behind the OpenAI face. Every provider — the stub included — answers in OpenAI
/// wire types; translation to and from the provider's own format happens inside the conformer.
///
/// `stream` returns once the upstream accepted the request (status and headers read), so a failure before
/// any byte reached the client is thrown from it and a route can fall over to its next target.
public protocol Provider: Sendable {
    /// The prefix of its model ids: `openai`, `claude`, `ollama`, `stub`.
    var name: String { get }
    var capabilities: ProviderCapabilities { get }
    /// The provider's model names (without the `name/` prefix).
    func listModels() async throws -> [String]
    func complete(_ request: ProviderRequest) async throws -> ChatCompletion
    func stream(_ request: ProviderRequest) async throws -> ChunkStream
}

/// A type-erased stream of OpenAI chunks with the backpressure of the sequence it wraps.
///
/// Chunks come in batches: a batch is what one read from the upstream completed. Relaying a batch in one write
/// costs one system call instead of one per chunk, and delays nothing (the chunks were all there already).
public struct ChunkStream: AsyncSequence, Sendable {
    public typealias Element = ChatCompletionChunk
    public typealias Failure = any Error

    private let makeBatches: @Sendable () -> Batches

    /// A stream whose chunks arrive one at a time.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == ChatCompletionChunk {
        makeBatches = {
            let box = IteratorBox(base.makeAsyncIterator())
            return Batches(next: { try await box.next().map { [$0] } })
        }
    }

    /// A stream whose chunks arrive in batches; empty batches are skipped.
    public init<Base: AsyncSequence & Sendable>(batches base: Base) where Base.Element == [ChatCompletionChunk] {
        makeBatches = {
            let box = IteratorBox(base.makeAsyncIterator())
            return Batches(next: {
                while let batch = try await box.next() {
                    if !batch.isEmpty { return batch }
                }
                return nil
            })
        }
    }

    /// The chunks, batch by batch.
    public func makeBatchIterator() -> Batches { makeBatches() }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(batches: makeBatches()) }

    public struct Batches {
        let next: () async throws -> [ChatCompletionChunk]?
        /// The next non-empty batch, or nil at the end.
        public mutating func next() async throws -> [ChatCompletionChunk]? { try await next() }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: Batches
        var pending: ArraySlice<ChatCompletionChunk> = []

        public mutating func next() async throws -> ChatCompletionChunk? {
            while pending.isEmpty {
                guard let batch = try await batches.next() else { return nil }
                pending = batch[...]
            }
            return pending.popFirst()
        }
    }

    private final class IteratorBox<I: AsyncIteratorProtocol> {
        var iterator: I
        init(_ iterator: I) { self.iterator = iterator }
        func next() async throws -> I.Element? { try await iterator.next() }
    }
}

/// Errors a provider reports; the server maps each to SPEC §5's status and body in one place.
public enum UpstreamError: Error, Sendable, Equatable {
    /// The upstream answered with an error status before streaming began.
    case status(status: Int, message: String, type: String?, code: String?, param: String?, retryAfter: String?)
    /// The upstream could not be reached, or the connection broke.
    case connection(String)
    /// No answer (or no next chunk) within the configured time.
    case timeout
    /// The upstream sent something we could not read.
    case protocolError(String)
    /// The upstream reported an error inside an already-started stream.
    case inStream(message: String, type: String)

    /// Whether a route may try its next target (SPEC §5: connection error, timeout, 429 or 5xx).
    public var allowsFallback: Bool {
        switch self {
        case .connection, .timeout: true
        case .status(let code, _, _, _, _, _): code == 429 || code >= 500
        case .protocolError, .inStream: false
        }
    }
}
