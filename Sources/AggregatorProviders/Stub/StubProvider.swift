import AggregatorCore
import AggregatorWire
import Foundation

/// The built-in deterministic provider (SPEC §11): echoes the last user message, calls tools on request,
/// counts tokens as ceil(UTF-8 bytes / 4). `slow` waits before each streamed chunk.
public struct StubProvider: Provider {
    public let name = "stub"
    public let capabilities = ProviderCapabilities(streaming: true, tools: true)
    public static let models = ["echo", "slow"]
    let chunkDelay: Duration

    public init(slowChunkDelay: Duration = .milliseconds(50)) {
        self.chunkDelay = slowChunkDelay
    }

    public func listModels() async throws -> [String] { Self.models }

    public func complete(_ request: ProviderRequest) async throws -> ChatCompletion {
        try checkModel(request.model)
        let answer = StubAnswer(request.chat)
        let message: AssistantMessage
        switch answer.kind {
        case .text(let text):
            message = AssistantMessage(content: text)
        case .toolCall(let call):
            message = AssistantMessage(content: nil, toolCalls: [call])
        }
        return ChatCompletion(
            id: "chatcmpl-\(request.requestID)", created: Int(Date().timeIntervalSince1970), model: request.model,
            choices: [ChatChoice(message: message, finishReason: answer.finishReason, stopSequence: answer.stopSequence)],
            usage: answer.usage)
    }

    public func stream(_ request: ProviderRequest) async throws -> ChunkStream {
        try checkModel(request.model)
        let answer = StubAnswer(request.chat)
        let id = "chatcmpl-\(request.requestID)"
        let created = Int(Date().timeIntervalSince1970)
        func chunk(_ delta: ChunkDelta, finish: FinishReason? = nil, stopSequence: String? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(
                id: id, created: created, model: request.model,
                choices: [ChunkChoice(delta: delta, finishReason: finish, stopSequence: stopSequence)])
        }
        var chunks: [ChatCompletionChunk] = []
        switch answer.kind {
        case .text(let text):
            chunks.append(chunk(ChunkDelta(role: "assistant", content: "")))
            for word in StubAnswer.words(text) { chunks.append(chunk(ChunkDelta(content: word))) }
        case .toolCall(let call):
            chunks.append(chunk(ChunkDelta(role: "assistant", toolCalls: [.start(index: 0, id: call.id, name: call.function.name)])))
            for fragment in StubAnswer.fragments(call.function.arguments) {
                chunks.append(chunk(ChunkDelta(toolCalls: [.arguments(index: 0, fragment)])))
            }
        }
        chunks.append(chunk(ChunkDelta(), finish: answer.finishReason, stopSequence: answer.stopSequence))
        chunks.append(ChatCompletionChunk(id: id, created: created, model: request.model, choices: [], usage: answer.usage))
        let delay: Duration? = request.model == "slow" ? chunkDelay : nil
        return ChunkStream(StubChunks(chunks: chunks, delay: delay))
    }

    private func checkModel(_ model: String) throws {
        guard Self.models.contains(model) else {
            throw UpstreamError.status(
                status: 404, message: "The model `stub/\(model)` does not exist or you do not have access to it.",
                type: "invalid_request_error", code: "model_not_found", param: "model", retryAfter: nil)
        }
    }
}

/// Replays precomputed chunks, sleeping before each one when slow (cancellation ends the sleep).
struct StubChunks: AsyncSequence, Sendable {
    let chunks: [ChatCompletionChunk]
    let delay: Duration?

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<ChatCompletionChunk>
        let delay: Duration?

        mutating func next() async throws -> ChatCompletionChunk? {
            guard let first = remaining.first else { return nil }
            if let delay { try await Task.sleep(for: delay) }
            try Task.checkCancellation()
            remaining = remaining.dropFirst()
            return first
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: chunks[...], delay: delay) }
}
