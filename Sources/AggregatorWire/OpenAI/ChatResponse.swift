/// Why a choice ended (WIRE §1.4). Open set: upstreams may add values.
public struct FinishReason: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let stop = FinishReason(rawValue: "stop")
    public static let length = FinishReason(rawValue: "length")
    public static let toolCalls = FinishReason(rawValue: "tool_calls")
    public static let contentFilter = FinishReason(rawValue: "content_filter")
}

public struct Usage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Part of `promptTokens` served from a prompt cache.
    public var cachedTokens: Int?
    /// Part of `promptTokens` written to a prompt cache (Anthropic's `cache_creation_input_tokens`, or
    /// `prompt_tokens_details.cache_write_tokens` from an upstream that reports it). Read for metering only: it
    /// is never written by itself, so the `usage` a client gets is what the upstream sent (an OpenAI-shaped
    /// upstream's `cache_write_tokens` stays in `promptDetails`, written back as it came).
    public var cacheWriteTokens: Int?
    /// The other members of `prompt_tokens_details` (`audio_tokens`, …) as the upstream sent them.
    public var promptDetails = JSONObject()
    /// Members we do not read (`completion_tokens_details` with reasoning tokens, …), passed through.
    public var extra = JSONObject()

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int? = nil, cacheWriteTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = promptTokens + completionTokens
        self.cachedTokens = cachedTokens
        self.cacheWriteTokens = cacheWriteTokens
    }
}

extension Usage: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("prompt_tokens", promptTokens)
            w.field("completion_tokens", completionTokens)
            w.field("total_tokens", totalTokens)
            if cachedTokens != nil || !promptDetails.isEmpty {
                w.field("prompt_tokens_details") { w in
                    if let cachedTokens { w.field("cached_tokens", cachedTokens) }
                    for (key, value) in promptDetails { w.field(key, value) }
                }
            }
            for (key, value) in extra { w.field(key, value) }
        }
    }
}

/// The assistant message of a non-streaming choice.
public struct AssistantMessage: Sendable, Hashable {
    public var content: String?
    public var refusal: String?
    /// The model's reasoning text, under the non-standard `reasoning_content` key that OpenAI-compatible servers
    /// (DeepSeek, vLLM, …) use and the gateway writes for Ollama's `thinking` (WIRE §3.6); never counted as content.
    public var reasoningContent: String?
    public var toolCalls: [ToolCall]?
    /// Members we do not read (`annotations`, `audio`, …), passed through.
    public var extra = JSONObject()

    public init(content: String?, refusal: String? = nil, reasoningContent: String? = nil, toolCalls: [ToolCall]? = nil) {
        self.content = content
        self.refusal = refusal
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
    }
}

public struct ChatChoice: Sendable, Hashable {
    public var index: Int
    public var message: AssistantMessage
    public var logprobs: JSONValue?
    public var finishReason: FinishReason?
    /// Not part of the wire format, never written: the stop sequence that ended the choice, when the provider
    /// knows which one (the stub does; OpenAI and Ollama do not say), for Anthropic's `stop_sequence`.
    public var stopSequence: String?

    public init(index: Int = 0, message: AssistantMessage, finishReason: FinishReason?, stopSequence: String? = nil) {
        self.index = index
        self.message = message
        self.finishReason = finishReason
        self.stopSequence = stopSequence
    }
}

/// `chat.completion`: the non-streaming answer (WIRE §1.4).
public struct ChatCompletion: Sendable, Hashable {
    public var id: String
    public var created: Int
    public var model: String
    public var systemFingerprint: String?
    public var choices: [ChatChoice]
    public var usage: Usage?
    public var serviceTier: String?
    /// Top-level members we do not read, passed through.
    public var extra = JSONObject()

    public init(id: String, created: Int, model: String, choices: [ChatChoice], usage: Usage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

extension ChatCompletion: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("id", id)
            w.field("object", "chat.completion")
            w.field("created", created)
            w.field("model", model)
            if let systemFingerprint { w.field("system_fingerprint", systemFingerprint) }
            w.key("choices")
            w.array { w in
                for choice in choices {
                    w.object { w in
                        w.field("index", choice.index)
                        w.field("message") { w in
                            w.field("role", "assistant")
                            w.field("content", choice.message.content)
                            w.field("refusal", choice.message.refusal)
                            if let reasoning = choice.message.reasoningContent { w.field("reasoning_content", reasoning) }
                            if let calls = choice.message.toolCalls, !calls.isEmpty {
                                w.key("tool_calls")
                                w.array { w in for call in calls { call.write(to: &w) } }
                            }
                            for (key, value) in choice.message.extra { w.field(key, value) }
                        }
                        w.field("logprobs", choice.logprobs ?? .null)
                        w.field("finish_reason", choice.finishReason?.rawValue)
                    }
                }
            }
            if let usage { w.key("usage"); usage.write(to: &w) }
            if let serviceTier { w.field("service_tier", serviceTier) }
            for (key, value) in extra { w.field(key, value) }
        }
    }
}

/// A partial tool call inside a streamed delta (WIRE §1.5).
public struct ToolCallDelta: Sendable, Hashable {
    public var index: Int
    public var id: String?
    public var type: String?
    public var function: FunctionDelta?

    public struct FunctionDelta: Sendable, Hashable {
        public var name: String?
        public var arguments: String?
        public init(name: String? = nil, arguments: String? = nil) {
            self.name = name
            self.arguments = arguments
        }
    }

    public init(index: Int, id: String? = nil, type: String? = nil, function: FunctionDelta?) {
        self.index = index
        self.id = id
        self.type = type
        self.function = function
    }

    /// The first fragment of a call: id, type and name, with empty arguments.
    public static func start(index: Int, id: String, name: String) -> ToolCallDelta {
        ToolCallDelta(index: index, id: id, type: "function", function: .init(name: name, arguments: ""))
    }

    /// A later fragment: only more argument text.
    public static func arguments(index: Int, _ fragment: String) -> ToolCallDelta {
        ToolCallDelta(index: index, function: .init(arguments: fragment))
    }
}

public struct ChunkDelta: Sendable, Hashable {
    public var role: String?
    public var content: String?
    public var refusal: String?
    /// A piece of the model's reasoning text (`reasoning_content`, see `AssistantMessage.reasoningContent`).
    public var reasoningContent: String?
    public var toolCalls: [ToolCallDelta]?
    /// Members we do not read (legacy `function_call`, `annotations`, …), passed through.
    public var extra = JSONObject()

    public init(
        role: String? = nil, content: String? = nil, refusal: String? = nil, reasoningContent: String? = nil, toolCalls: [ToolCallDelta]? = nil
    ) {
        self.role = role
        self.content = content
        self.refusal = refusal
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
    }

    public var isEmpty: Bool {
        role == nil && content == nil && refusal == nil && reasoningContent == nil && (toolCalls?.isEmpty ?? true) && extra.isEmpty
    }
}

public struct ChunkChoice: Sendable, Hashable {
    public var index: Int
    public var delta: ChunkDelta
    public var logprobs: JSONValue?
    public var finishReason: FinishReason?
    /// Not part of the wire format, never written: on the finishing chunk, the stop sequence that ended the
    /// choice when the provider knows which one (see `ChatChoice.stopSequence`).
    public var stopSequence: String?

    public init(index: Int = 0, delta: ChunkDelta, finishReason: FinishReason? = nil, stopSequence: String? = nil) {
        self.index = index
        self.delta = delta
        self.finishReason = finishReason
        self.stopSequence = stopSequence
    }
}

/// `chat.completion.chunk`: one streamed event (WIRE §1.5).
public struct ChatCompletionChunk: Sendable, Hashable {
    public var id: String
    public var created: Int
    public var model: String
    public var systemFingerprint: String?
    public var choices: [ChunkChoice]
    public var usage: Usage?
    /// Top-level members we do not read (`service_tier`, `obfuscation`, …), passed through.
    public var extra = JSONObject()
    /// Not part of the wire format, never written: the usage the upstream reported before its final count
    /// (Anthropic's `message_start`), so that a stream cut short is metered from the provider's own prompt,
    /// cache read and cache write counts.
    public var usageSoFar: Usage?

    public init(id: String, created: Int, model: String, choices: [ChunkChoice], usage: Usage? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    /// Writes the chunk. `usageField` adds `"usage":null` to chunks without usage, as OpenAI does when the
    /// client asked for `include_usage`.
    public func write(to w: inout JSONWriter, usageField: Bool) {
        w.object { w in
            w.field("id", id)
            w.field("object", "chat.completion.chunk")
            w.field("created", created)
            w.field("model", model)
            if let systemFingerprint { w.field("system_fingerprint", systemFingerprint) }
            w.key("choices")
            w.array { w in
                for choice in choices {
                    w.object { w in
                        w.field("index", choice.index)
                        w.field("delta") { w in choice.delta.write(to: &w) }
                        w.field("logprobs", choice.logprobs ?? .null)
                        w.field("finish_reason", choice.finishReason?.rawValue)
                    }
                }
            }
            if let usage {
                w.key("usage")
                usage.write(to: &w)
            } else if usageField {
                w.key("usage")
                w.null()
            }
            for (key, value) in extra { w.field(key, value) }
        }
    }
}

extension ChunkDelta {
    /// Writes the delta's fields into an open object. The first delta (with `role`) always carries `content`.
    func write(to w: inout JSONWriter) {
        if let role { w.field("role", role) }
        if let content {
            w.field("content", content)
        } else if role != nil {
            w.key("content")
            w.null()
        }
        if let refusal { w.field("refusal", refusal) }
        if let reasoningContent { w.field("reasoning_content", reasoningContent) }
        if let toolCalls, !toolCalls.isEmpty {
            w.key("tool_calls")
            w.array { w in
                for call in toolCalls {
                    w.object { w in
                        w.field("index", call.index)
                        if let id = call.id { w.field("id", id) }
                        if let type = call.type { w.field("type", type) }
                        if let function = call.function {
                            w.field("function") { w in
                                if let name = function.name { w.field("name", name) }
                                if let arguments = function.arguments { w.field("arguments", arguments) }
                            }
                        }
                    }
                }
            }
        }
        for (key, value) in extra { w.field(key, value) }
    }
}
