import AggregatorCore
import AggregatorWire

/// An OpenAI-shaped answer (from OpenAI, Ollama or the stub) written as Anthropic's Messages answer (WIRE §2.3,
/// the reverse of `ClaudeResponseTranslator`): a thinking block for the reasoning, if any, then a text block, then
/// one `tool_use` block per call, `stop_reason` `tool_use` whenever a tool was called, and usage split as Anthropic
/// splits it (cache reads and writes apart from `input_tokens`).
public enum AnthropicMessagesAnswer {
    /// `msg_` and the request id's random part: one id per generation, the same in a stream's `message_start`.
    public static func messageID(requestID: String) -> String {
        "msg_" + (requestID.hasPrefix("req_") ? String(requestID.dropFirst(4)) : requestID)
    }

    /// The `signature` of a thinking block the gateway made from another provider's reasoning (OpenAI-compatible
    /// `reasoning_content`, Ollama's `thinking`). Anthropic signs its own thinking; this marker says the block is not
    /// Anthropic's, so that it is never passed to Claude as if it were (Claude would refuse the conversation:
    /// "Invalid `signature`", claude-code-hub #518). Not base64, so it cannot be mistaken for a real signature.
    public static let unsignedThinking = "aggregator:unsigned-thinking"

    public static func encode(_ completion: ChatCompletion, id: String, usage: Usage) -> [UInt8] {
        let message = completion.choices.first?.message
        let calls = message?.toolCalls ?? []
        var w = JSONWriter(capacity: 512)
        w.object { w in
            w.field("id", id)
            w.field("type", "message")
            w.field("role", "assistant")
            w.field("model", completion.model)
            w.key("content")
            w.array { w in
                if let thinking = message?.reasoningContent, !thinking.isEmpty {
                    w.object { w in
                        w.field("type", "thinking")
                        w.field("thinking", thinking)
                        w.field("signature", unsignedThinking)
                    }
                }
                let text = (message?.content ?? "") + (message?.refusal ?? "")
                if !text.isEmpty {
                    w.object { w in
                        w.field("type", "text")
                        w.field("text", text)
                    }
                }
                for call in calls {
                    w.object { w in
                        w.field("type", "tool_use")
                        w.field("id", call.id)
                        w.field("name", call.function.name)
                        w.field("input", input(call.function.arguments))
                    }
                }
            }
            let choice = completion.choices.first
            let (reason, sequence) = stop(choice?.finishReason, sequence: choice?.stopSequence, calledTool: !calls.isEmpty)
            w.field("stop_reason", reason)
            w.field("stop_sequence", sequence)
            w.key("usage")
            writeUsage(usage, to: &w)
        }
        return w.bytes
    }

    /// `finish_reason` → `stop_reason` and `stop_sequence`; a called tool is always `tool_use`, whatever the upstream
    /// said (an `end_turn` there means Claude Code never runs the tool: Bifrost #4065). `stop` is `stop_sequence`
    /// only when the provider said which sequence matched (the stub does; OpenAI and Ollama do not, so `end_turn`).
    static func stop(_ finish: FinishReason?, sequence: String?, calledTool: Bool) -> (reason: String, sequence: String?) {
        if calledTool { return ("tool_use", nil) }
        switch finish {
        case .length?: return ("max_tokens", nil)
        case .toolCalls?: return ("tool_use", nil)
        case .contentFilter?: return ("refusal", nil)
        default: return sequence.map { ("stop_sequence", $0) } ?? ("end_turn", nil)
        }
    }

    /// A call's `arguments` as the block's `input` object: `{}` for none, or for text that is not an object.
    static func input(_ arguments: String) -> JSONValue {
        if case .object(let object)? = JSONValue(parsing: arguments) { return .object(object) }
        return .object(JSONObject())
    }

    /// Anthropic's usage: `input_tokens` without the cached parts, which go in their own fields.
    static func writeUsage(_ usage: Usage, to w: inout JSONWriter) {
        let cacheRead = usage.cachedTokens ?? 0
        let cacheWrite = usage.cacheWriteTokens ?? 0
        w.object { w in
            w.field("input_tokens", max(0, usage.promptTokens - cacheRead - cacheWrite))
            w.field("output_tokens", usage.completionTokens)
            w.field("cache_creation_input_tokens", cacheWrite)
            w.field("cache_read_input_tokens", cacheRead)
        }
    }

    /// `{"type":"error","error":{type,message},"request_id"}`, the body of every error the gateway answers on
    /// `/v1/messages`.
    public static func errorBody(type: String, message: String, requestID: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 128 + message.utf8.count)
        w.object { w in
            w.field("type", "error")
            w.field("error") { w in
                w.field("type", type)
                w.field("message", message)
            }
            if let requestID { w.field("request_id", requestID) }
        }
        return w.bytes
    }

    /// `count_tokens`' answer.
    public static func tokenCount(_ tokens: Int) -> [UInt8] {
        var w = JSONWriter(capacity: 32)
        w.object { $0.field("input_tokens", tokens) }
        return w.bytes
    }
}
