import AggregatorCore
import AggregatorWire

/// Ollama answer → OpenAI answer (WIRE §3.6), for whole answers and as the state of a stream.
struct OllamaResponseTranslator: Sendable {
    let id: String
    let created: Int
    let model: String
    /// Dense OpenAI index of the next tool call, counted over the whole answer.
    private(set) var toolCallCount = 0
    private var sentRole = false
    private(set) var isFinished = false

    init(id: String, created: Int, model: String) {
        self.id = id
        self.created = created
        self.model = model
    }

    /// The whole answer of a non-streamed call.
    mutating func completion(_ response: OllamaChatResponse) throws -> ChatCompletion {
        if let error = response.error { throw UpstreamError.inStream(message: error, type: "server_error") }
        var calls: [ToolCall] = []
        for call in response.message?.toolCalls ?? [] { calls.append(openAI(call)) }
        let content = response.message?.content ?? ""
        let thinking = response.message?.thinking ?? ""
        let message = AssistantMessage(
            content: content.isEmpty && !calls.isEmpty ? nil : content, reasoningContent: thinking.isEmpty ? nil : thinking,
            toolCalls: calls.isEmpty ? nil : calls)
        return ChatCompletion(
            id: id, created: created, model: model,
            choices: [ChatChoice(message: message, finishReason: finishReason(response.doneReason))],
            usage: Self.usage(response))
    }

    /// The chunks for one NDJSON line. The first chunk carries the role; thinking text (`reasoning_content`) comes
    /// before the text of the same line, both in one delta, so neither is lost where the one turns into the other;
    /// each tool call arrives whole (Ollama parses them server-side) as one fragment with its id, name and all its
    /// arguments; the `done` line adds a `delta:{}` finish chunk and the `choices:[]` usage chunk.
    mutating func chunks(_ line: OllamaChatResponse) throws -> [ChatCompletionChunk] {
        if let error = line.error { throw UpstreamError.inStream(message: error, type: "server_error") }
        guard !isFinished else { return [] }
        var deltas: [ChunkDelta] = []
        let thinking = line.message?.thinking.flatMap { $0.isEmpty ? nil : $0 }
        let content = line.message?.content.isEmpty == false ? line.message?.content : nil
        if thinking != nil || content != nil { deltas.append(ChunkDelta(content: content, reasoningContent: thinking)) }
        for call in line.message?.toolCalls ?? [] {
            let call = openAI(call)
            let fragment = ToolCallDelta(
                index: toolCallCount - 1, id: call.id, type: "function",
                function: .init(name: call.function.name, arguments: call.function.arguments))
            deltas.append(ChunkDelta(toolCalls: [fragment]))
        }
        if deltas.isEmpty, !sentRole { deltas.append(ChunkDelta(content: "")) }
        if !sentRole {
            deltas[0].role = "assistant"
            sentRole = true
        }
        var chunks = deltas.map { chunk([ChunkChoice(delta: $0)]) }
        if line.done {
            isFinished = true
            chunks.append(chunk([ChunkChoice(delta: ChunkDelta(), finishReason: finishReason(line.doneReason))]))
            chunks.append(chunk([], usage: Self.usage(line)))
        }
        return chunks
    }

    /// `length` stays `length`; otherwise a tool call anywhere in the answer makes it `tool_calls` — Ollama says
    /// `stop` then, and often sent the call lines before `done` (WIRE §5.8).
    private func finishReason(_ doneReason: String?) -> FinishReason {
        if doneReason == "length" { return .length }
        return toolCallCount > 0 ? .toolCalls : .stop
    }

    /// An Ollama tool call as OpenAI's: arguments as JSON text, and an id minted once when Ollama gave none.
    private mutating func openAI(_ call: OllamaToolCall) -> ToolCall {
        toolCallCount += 1
        let arguments: String
        switch call.arguments {
        case .string(let text): arguments = text.isEmpty ? "{}" : text
        case .null: arguments = "{}"
        default: arguments = call.arguments.jsonText
        }
        let id = call.id.flatMap { $0.isEmpty ? nil : $0 } ?? Self.mintCallID()
        return ToolCall(id: id, function: FunctionCall(name: call.name, arguments: arguments))
    }

    private func chunk(_ choices: [ChunkChoice], usage: Usage? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: choices, usage: usage)
    }

    static func usage(_ response: OllamaChatResponse) -> Usage {
        Usage(promptTokens: response.promptEvalCount ?? 0, completionTokens: response.evalCount ?? 0)
    }

    /// `call_` and 24 random letters and digits, like OpenAI's ids.
    static func mintCallID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return "call_" + String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
