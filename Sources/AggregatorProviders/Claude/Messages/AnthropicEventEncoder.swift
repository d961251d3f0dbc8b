import AggregatorCore
import AggregatorWire

/// OpenAI chunks (from OpenAI, Ollama or the stub) → Anthropic's event sequence (SPEC §15, WIRE §2.4; the reverse
/// of `ClaudeStreamTranslator`), the rules clients rely on kept here in one place:
/// - `message_start` first and once, with the input tokens as far as they are known;
/// - content blocks with dense indexes, one open at a time: a block is stopped before the next one starts;
/// - reasoning (`reasoning_content`) in `thinking` blocks with `thinking_delta`s, each closed by a `signature_delta`
///   carrying the gateway's marker, text in `text` blocks with `text_delta`s, never one kind in the other's block;
/// - a tool block gets at least one `input_json_delta` (`{}` for a call without arguments), and arguments that
///   arrive whole, in the call's first chunk, are sent too (LiteLLM #25561);
/// - `message_delta` once, at the end, with `stop_reason` `tool_use` whenever a tool block was sent (`stop_sequence`
///   and its string when the provider said which stop sequence matched) and cumulative usage; then `message_stop`.
/// Every frame is `event: <type>` with `data.type` equal to it.
public struct AnthropicEventEncoder: Sendable {
    let id: String
    let model: String
    let inputTokens: Int
    private var open: Block?
    private var nextIndex = 0
    private var calledTool = false
    private var finish: FinishReason?
    private var stopSequence: String?

    private enum Block {
        case thinking(index: Int)
        case text(index: Int)
        /// `call`: the OpenAI `tool_calls[].index`; `sentInput`: whether an `input_json_delta` went out.
        case tool(index: Int, call: Int, sentInput: Bool)
    }

    /// - Parameter inputTokens: the input tokens `message_start` reports (the upstream's count comes only at the
    ///   end, so the gateway's estimate: never 0, which breaks Claude Code's context meter, LiteLLM #24176).
    public init(id: String, model: String, inputTokens: Int) {
        self.id = id
        self.model = model
        self.inputTokens = inputTokens
    }

    public static let ping: [UInt8] = ServerSentEvent.namedFrame("ping") { $0.object { $0.field("type", "ping") } }

    /// `message_start`.
    public func start() -> [UInt8] {
        ServerSentEvent.namedFrame("message_start") { w in
            w.object { w in
                w.field("type", "message_start")
                w.field("message") { w in
                    w.field("id", id)
                    w.field("type", "message")
                    w.field("role", "assistant")
                    w.field("model", model)
                    w.key("content")
                    w.array { _ in }
                    w.field("stop_reason", nil as String?)
                    w.field("stop_sequence", nil as String?)
                    w.key("usage")
                    AnthropicMessagesAnswer.writeUsage(Usage(promptTokens: inputTokens, completionTokens: 1), to: &w)
                }
            }
        }
    }

    /// The events one chunk makes (none for a role-only or usage-only chunk).
    public mutating func frames(for chunk: ChatCompletionChunk, into out: inout [UInt8]) {
        for choice in chunk.choices where choice.index == 0 {
            // A delta that ends the reasoning and begins the text carries both: the thinking goes first, in its own
            // block, and the text's first piece opens the text block (LiteLLM #29518).
            if let thought = choice.delta.reasoningContent, !thought.isEmpty { append(thought, thinking: true, into: &out) }
            let text = (choice.delta.content ?? "") + (choice.delta.refusal ?? "")
            if !text.isEmpty { append(text, thinking: false, into: &out) }
            for call in choice.delta.toolCalls ?? [] { appendToolCall(call, into: &out) }
            if let reason = choice.finishReason {
                finish = reason
                stopSequence = choice.stopSequence
            }
        }
    }

    /// Closes the open block, then `message_delta` (stop reason, cumulative usage) and `message_stop`.
    public mutating func end(usage: Usage, into out: inout [UInt8]) {
        closeBlock(into: &out)
        let (reason, sequence) = AnthropicMessagesAnswer.stop(finish, sequence: stopSequence, calledTool: calledTool)
        out += ServerSentEvent.namedFrame("message_delta") { w in
            w.object { w in
                w.field("type", "message_delta")
                w.field("delta") { w in
                    w.field("stop_reason", reason)
                    w.field("stop_sequence", sequence)
                }
                w.key("usage")
                AnthropicMessagesAnswer.writeUsage(usage, to: &w)
            }
        }
        out += ServerSentEvent.namedFrame("message_stop") { $0.object { $0.field("type", "message_stop") } }
    }

    /// An `error` event (the stream then closes without `message_stop`).
    public static func error(type: String, message: String) -> [UInt8] {
        ServerSentEvent.namedFrame("error") { w in
            w.object { w in
                w.field("type", "error")
                w.field("error") { w in
                    w.field("type", type)
                    w.field("message", message)
                }
            }
        }
    }

    /// A piece of text, or of reasoning (`thinking`): a delta of the open block when it is of the same kind, else of a
    /// new block. Reasoning goes in `thinking` blocks with `thinking_delta`s only (LiteLLM #32357, #33224: never in a
    /// text block), each closed by a `signature_delta` with the gateway's marker (`closeBlock`).
    private mutating func append(_ piece: String, thinking: Bool, into out: inout [UInt8]) {
        let kind = thinking ? "thinking" : "text"
        let index: Int
        switch open {
        case .thinking(let current)? where thinking: index = current
        case .text(let current)? where !thinking: index = current
        default:
            closeBlock(into: &out)
            index = startBlock(into: &out) { w in
                w.field("type", kind)
                w.field(kind, "")
            }
            open = thinking ? .thinking(index: index) : .text(index: index)
        }
        delta(index, into: &out) { w in
            w.field("type", kind + "_delta")
            w.field(kind, piece)
        }
    }

    private mutating func appendToolCall(_ call: ToolCallDelta, into out: inout [UInt8]) {
        if let id = call.id, let name = call.function?.name {
            closeBlock(into: &out)
            calledTool = true
            let index = startBlock(into: &out) { w in
                w.field("type", "tool_use")
                w.field("id", id)
                w.field("name", name)
                w.field("input") { _ in }
            }
            open = .tool(index: index, call: call.index, sentInput: false)
        }
        // Arguments of a call whose block is no longer open cannot be sent without reopening it; upstreams send a
        // call's arguments before the next call starts.
        guard let fragment = call.function?.arguments, !fragment.isEmpty,
            case .tool(let index, let current, _)? = open, current == call.index
        else { return }
        delta(index, into: &out) { w in
            w.field("type", "input_json_delta")
            w.field("partial_json", fragment)
        }
        open = .tool(index: index, call: current, sentInput: true)
    }

    private mutating func startBlock(into out: inout [UInt8], _ block: (inout JSONWriter) -> Void) -> Int {
        let index = nextIndex
        nextIndex += 1
        out += ServerSentEvent.namedFrame("content_block_start") { w in
            w.object { w in
                w.field("type", "content_block_start")
                w.field("index", index)
                w.field("content_block", block)
            }
        }
        return index
    }

    private func delta(_ index: Int, into out: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        out += ServerSentEvent.namedFrame("content_block_delta") { w in
            w.object { w in
                w.field("type", "content_block_delta")
                w.field("index", index)
                w.field("delta", body)
            }
        }
    }

    private mutating func closeBlock(into out: inout [UInt8]) {
        let index: Int
        switch open {
        case nil: return
        case .text(let i)?: index = i
        case .thinking(let i)?:
            index = i
            delta(i, into: &out) { w in
                w.field("type", "signature_delta")
                w.field("signature", AnthropicMessagesAnswer.unsignedThinking)
            }
        case .tool(let i, _, let sentInput)?:
            index = i
            // A call without arguments still gets its input, as `{}` (clients parse the concatenated deltas).
            if !sentInput {
                delta(i, into: &out) { w in
                    w.field("type", "input_json_delta")
                    w.field("partial_json", "{}")
                }
            }
        }
        open = nil
        out += ServerSentEvent.namedFrame("content_block_stop") { w in
            w.object { w in
                w.field("type", "content_block_stop")
                w.field("index", index)
            }
        }
    }
}
