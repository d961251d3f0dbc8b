import AggregatorCore
import AggregatorWire

/// A client's Anthropic Messages request (SPEC §15), read once: the body as it came (what a Claude target gets,
/// with only `model` rewritten) and the same request as the chat path sends it to OpenAI, Ollama and the stub.
public struct AnthropicMessagesRequest: Sendable {
    /// The body exactly as the client sent it.
    public let body: [UInt8]
    public let model: String
    public let stream: Bool
    /// The OpenAI request the chat path would send for the same conversation (WIRE §2.7 read backwards).
    public let chat: ChatCompletionRequest
    let modelRange: Range<Int>
    /// Thinking blocks of the history that the gateway made from another provider's reasoning: cut from the body a
    /// Claude target gets (their marker is no signature Anthropic would accept, claude-code-hub #518).
    let unsignedThinking: [Range<Int>]

    /// A body that is not a Messages request; the message says what is wrong, as Anthropic's API would.
    public struct Problem: Error, Sendable, Equatable {
        public var message: String
    }

    /// Reads a body. `requireMaxTokens`: `/v1/messages` requires `max_tokens` as Anthropic does; `count_tokens`
    /// does not take it.
    public init(body: [UInt8], requireMaxTokens: Bool) throws(Problem) {
        let inbound: ClaudeWire.Inbound
        do {
            inbound = try JSONReader.decode(ClaudeWire.Inbound.self, from: body)
        } catch let error as JSONReader.Error {
            throw Problem(message: error.offset > 0 ? "The request body could not be read: \(error.description) (at byte \(error.offset))." : "\(error.description).")
        } catch {
            throw Problem(message: "The body could not be read.")
        }
        guard let model = inbound.model, let range = inbound.modelRange else { throw Problem(message: "model: Field required") }
        if model.isEmpty { throw Problem(message: "model: String should have at least 1 character") }
        if requireMaxTokens {
            guard let maxTokens = inbound.maxTokens else { throw Problem(message: "max_tokens: Field required") }
            if maxTokens < 1 { throw Problem(message: "max_tokens: Input should be greater than or equal to 1") }
        }
        if inbound.messages.isEmpty { throw Problem(message: "messages: at least one message is required") }
        self.body = body
        self.model = model
        self.stream = inbound.stream
        self.modelRange = range
        self.unsignedThinking = inbound.unsignedThinking
        self.chat = Self.chatRequest(inbound)
    }

    /// The body for a Claude target: the client's bytes with the `model` value replaced and the thinking blocks the
    /// gateway made cut out, every other byte kept (Anthropic's own signed thinking included).
    public func body(model upstreamModel: String) -> [UInt8] {
        var writer = JSONWriter(capacity: upstreamModel.utf8.count + 2)
        writer.string(upstreamModel)
        let edits = ([(modelRange, writer.bytes)] + unsignedThinking.map { ($0, [UInt8]()) }).sorted { $0.0.lowerBound < $1.0.lowerBound }
        var rewritten = [UInt8]()
        rewritten.reserveCapacity(body.count + writer.bytes.count)
        var from = 0
        for (range, replacement) in edits {
            rewritten += body[from..<range.lowerBound]
            rewritten += replacement
            from = range.upperBound
        }
        rewritten += body[from...]
        return rewritten
    }

    /// Input tokens as the gateway estimates them for providers that count none before answering: the chat
    /// path's own rule (SPEC §11) over the translated conversation, plus the offered tools' definitions.
    public var estimatedInputTokens: Int {
        var tokens = TokenEstimator.promptTokens(chat.messages)
        for tool in chat.tools ?? [] {
            tokens += TokenEstimator.tokens(tool.name + (tool.description ?? "") + (tool.parameters?.jsonText ?? ""))
        }
        return tokens
    }
}

extension AnthropicMessagesRequest {
    /// Anthropic → OpenAI (the reverse of `ClaudeRequestTranslator`): system blocks become system messages in order;
    /// a user turn's tool results become `tool` messages (first, as OpenAI wants them right after the calls) and its
    /// text and images one user message; an assistant turn's text and `tool_use` blocks one assistant message with
    /// `tool_calls`; tools, `tool_choice`, stop sequences, sampling and `metadata.user_id` map field by field.
    static func chatRequest(_ inbound: ClaudeWire.Inbound) -> ChatCompletionRequest {
        var messages = inbound.system.map { ChatMessage(role: .system, content: .text($0)) }
        for turn in inbound.messages {
            switch turn.role {
            case .user: messages += userMessages(turn.content)
            case .assistant: if let message = assistantMessage(turn.content) { messages.append(message) }
            }
        }
        var chat = ChatCompletionRequest(model: inbound.model ?? "", messages: messages, stream: inbound.stream ? true : nil)
        chat.maxTokens = inbound.maxTokens
        chat.temperature = inbound.temperature
        chat.topP = inbound.topP
        chat.stop = inbound.stopSequences.isEmpty ? nil : inbound.stopSequences
        chat.user = inbound.userID
        chat.reasoningEffort = reasoningEffort(inbound.thinking, effort: inbound.effort)
        chat.reasoningEffortIsTranslated = chat.reasoningEffort != nil
        let tools = inbound.tools.map { Tool(name: $0.name, description: $0.description, parameters: $0.inputSchema) }
        if !tools.isEmpty { chat.tools = tools }
        if let choice = inbound.toolChoice {
            switch choice.type {
            case "any": chat.toolChoice = tools.isEmpty ? nil : .required
            case "none": chat.toolChoice = ToolChoice.none
            // A forced tool that was not offered (a server tool left out) cannot be forced elsewhere.
            case "tool": chat.toolChoice = tools.contains(where: { $0.name == choice.name }) ? .function(name: choice.name ?? "") : nil
            default: chat.toolChoice = tools.isEmpty ? nil : .auto
            }
            if choice.disableParallelToolUse == true, !tools.isEmpty { chat.parallelToolCalls = false }
        }
        return chat
    }

    /// Thinking asked for (`enabled` or `adaptive`) → `reasoning_effort` (Ollama: `think:true`); nothing without it,
    /// or with `disabled`. The level: `output_config.effort` when given (`low`, `medium`, `high`; `max` is `high`,
    /// OpenAI's highest common level); else an `enabled` block's `budget_tokens` read against LiteLLM's documented
    /// budgets for the three levels (low 1024, medium 2048, high 4096): under 2048 `low`, under 4096 `medium`, else
    /// `high`; else (`adaptive`, the model choosing its depth) `medium`, OpenAI's own default.
    static func reasoningEffort(_ thinking: ClaudeWire.Inbound.Thinking?, effort: String?) -> String? {
        let budget: Int?
        switch thinking {
        case nil, .disabled?: return nil
        case .enabled(let tokens)?: budget = tokens
        case .adaptive?: budget = nil
        }
        switch effort {
        case "low"?, "medium"?, "high"?: return effort
        case "max"?: return "high"
        default: break
        }
        guard let budget else { return "medium" }
        return budget < 2048 ? "low" : budget < 4096 ? "medium" : "high"
    }

    static func userMessages(_ blocks: [ClaudeWire.Block]) -> [ChatMessage] {
        var results: [ChatMessage] = []
        var parts: [ContentPart] = []
        for block in blocks {
            switch block {
            case .text(let text): if !text.isEmpty { parts.append(.text(text)) }
            case .image(let source): parts.append(imagePart(source))
            case .toolResult(let id, let content, let isError):
                let text = content.compactMap { block -> String? in
                    if case .text(let t) = block { return t }
                    return nil
                }.joined(separator: "\n")
                // OpenAI's tool messages have no error flag: the model reads it in the text.
                results.append(ChatMessage(role: .tool, content: .text(isError ? "Error: \(text)" : text), toolCallID: id))
            case .toolUse: break
            }
        }
        if parts.isEmpty { return results }
        if parts.count == 1, case .text(let text) = parts[0] {
            results.append(ChatMessage(role: .user, content: .text(text)))
        } else {
            results.append(ChatMessage(role: .user, content: .parts(parts)))
        }
        return results
    }

    static func assistantMessage(_ blocks: [ClaudeWire.Block]) -> ChatMessage? {
        var text = ""
        var calls: [ToolCall] = []
        for block in blocks {
            switch block {
            case .text(let t): text += t
            case .toolUse(let id, let name, let input): calls.append(ToolCall(id: id, function: FunctionCall(name: name, arguments: input.jsonText)))
            case .image, .toolResult: break
            }
        }
        if text.isEmpty && calls.isEmpty { return nil }
        return ChatMessage(role: .assistant, content: text.isEmpty ? nil : .text(text), toolCalls: calls.isEmpty ? nil : calls)
    }

    static func imagePart(_ source: ClaudeWire.ImageSource) -> ContentPart {
        switch source {
        case .base64(let mediaType, let data): .imageURL(url: "data:\(mediaType);base64,\(data)", detail: nil)
        case .url(let url): .imageURL(url: url, detail: nil)
        }
    }
}
