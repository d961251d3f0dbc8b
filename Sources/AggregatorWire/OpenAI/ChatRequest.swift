/// A function tool offered to the model.
public struct Tool: Sendable, Hashable {
    public var type: String
    public var name: String
    public var description: String?
    /// JSON schema of the arguments; nil means a function with no arguments.
    public var parameters: JSONValue?
    public var strict: Bool?

    public init(name: String, description: String? = nil, parameters: JSONValue? = nil, strict: Bool? = nil) {
        self.type = "function"
        self.name = name
        self.description = description
        self.parameters = parameters
        self.strict = strict
    }
}

extension Tool: Decodable {
    private enum Keys: String, CodingKey { case type, function }
    private enum FunctionKeys: String, CodingKey { case name, description, parameters, strict }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "function"
        let f = try c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try f.decode(String.self, forKey: .name)
        description = try f.decodeIfPresent(String.self, forKey: .description)
        parameters = try f.decodeIfPresent(JSONValue.self, forKey: .parameters)
        strict = try f.decodeIfPresent(Bool.self, forKey: .strict)
    }
}

extension Tool: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("type", type)
            w.field("function") { w in
                w.field("name", name)
                if let description { w.field("description", description) }
                if let parameters { w.field("parameters", parameters) }
                if let strict { w.field("strict", strict) }
            }
        }
    }
}

/// `tool_choice`: "none" | "auto" | "required" | a named function | `allowed_tools`.
public enum ToolChoice: Sendable, Hashable {
    case none, auto, required
    case function(name: String)
    case allowedTools(mode: String, names: [String])
}

extension ToolChoice: Decodable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        switch Self.from(try single.decode(JSONValue.self)) {
        case .success(let choice): self = choice
        case .failure(let problem): throw DecodingError.dataCorruptedError(in: single, debugDescription: problem.message)
        }
    }

    struct Problem: Error {
        var message: String
    }

    /// The choice a JSON value describes.
    static func from(_ value: JSONValue) -> Result<ToolChoice, Problem> {
        if case .string(let s) = value {
            switch s {
            case "none": return .success(.none)
            case "auto": return .success(.auto)
            case "required": return .success(.required)
            default: return .failure(Problem(message: "Invalid value: '\(s)'. Supported values are: 'none', 'auto' and 'required'."))
            }
        }
        switch value["type"]?.stringValue {
        case "function":
            guard let name = value["function"]?["name"]?.stringValue else {
                return .failure(Problem(message: "Missing required parameter: 'tool_choice.function.name'."))
            }
            return .success(.function(name: name))
        case "allowed_tools":
            let allowed = value["allowed_tools"]
            let names = allowed?["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } ?? []
            return .success(.allowedTools(mode: allowed?["mode"]?.stringValue ?? "auto", names: names))
        default:
            return .failure(Problem(message: "Invalid value for 'tool_choice': expected a string or an object with type 'function'."))
        }
    }
}

extension ToolChoice: JSONWritable {
    public func write(to w: inout JSONWriter) {
        switch self {
        case .none: w.string("none")
        case .auto: w.string("auto")
        case .required: w.string("required")
        case .function(let name):
            w.object { w in
                w.field("type", "function")
                w.field("function") { $0.field("name", name) }
            }
        case .allowedTools(let mode, let names):
            w.object { w in
                w.field("type", "allowed_tools")
                w.field("allowed_tools") { w in
                    w.field("mode", mode)
                    w.key("tools")
                    w.array { w in
                        for name in names {
                            w.object { w in
                                w.field("type", "function")
                                w.field("function") { $0.field("name", name) }
                            }
                        }
                    }
                }
            }
        }
    }
}

public struct StreamOptions: Sendable, Hashable, Decodable {
    public var includeUsage: Bool?

    public init(includeUsage: Bool?) { self.includeUsage = includeUsage }

    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// The body of `POST /v1/chat/completions` (WIRE §1.2). Every documented field is typed or kept;
/// fields we do not know ride along in `extra` for pass-through providers.
public struct ChatCompletionRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var tools: [Tool]?
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var stop: [String]?
    public var n: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var responseFormat: JSONValue?
    public var seed: Int?
    public var user: String?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?
    public var logitBias: JSONValue?
    public var extra: JSONObject
    /// Set when `reasoning_effort` was not asked for by the client but derived from another API's thinking setting
    /// (the Messages API): a provider then leaves it out for a model that would refuse it. Never on the wire.
    public var reasoningEffortIsTranslated = false

    public init(model: String, messages: [ChatMessage], stream: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.extra = JSONObject()
    }

    public var isStreaming: Bool { stream ?? false }
    public var wantsStreamUsage: Bool { isStreaming && (streamOptions?.includeUsage ?? false) }
    /// The token cap the client asked for, whichever field it used.
    public var outputTokenLimit: Int? { maxCompletionTokens ?? maxTokens }

    /// `reasoning_effort` (`low`, `medium`, `high`, …): passed through as it came, so it rides in `extra`; read by
    /// translators (Ollama's `think`) and set by the Messages API's thinking mapping.
    public var reasoningEffort: String? {
        get { extra["reasoning_effort"]?.stringValue }
        set { extra["reasoning_effort"] = newValue.map(JSONValue.string) }
    }
}

extension ChatCompletionRequest: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        var model: String?
        var messages: [ChatMessage]?
        var extra = JSONObject()
        for key in c.allKeys {
            switch key.stringValue {
            case "model": model = try c.decode(String.self, forKey: key)
            case "messages": messages = try c.decode([ChatMessage].self, forKey: key)
            case "tools": tools = try c.decodeIfPresent([Tool].self, forKey: key)
            case "tool_choice": toolChoice = try c.decodeIfPresent(ToolChoice.self, forKey: key)
            case "parallel_tool_calls": parallelToolCalls = try c.decodeIfPresent(Bool.self, forKey: key)
            case "temperature": temperature = try c.decodeIfPresent(Double.self, forKey: key)
            case "top_p": topP = try c.decodeIfPresent(Double.self, forKey: key)
            case "max_tokens": maxTokens = try c.decodeIfPresent(Int.self, forKey: key)
            case "max_completion_tokens": maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: key)
            case "stop":
                if try c.decodeNil(forKey: key) {
                    stop = nil
                } else if let one = try? c.decode(String.self, forKey: key) {
                    stop = [one]
                } else {
                    stop = try c.decode([String].self, forKey: key)
                }
            case "n": n = try c.decodeIfPresent(Int.self, forKey: key)
            case "stream": stream = try c.decodeIfPresent(Bool.self, forKey: key)
            case "stream_options": streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: key)
            case "response_format": responseFormat = try c.decodeIfPresent(JSONValue.self, forKey: key)
            case "seed": seed = try c.decodeIfPresent(Int.self, forKey: key)
            case "user": user = try c.decodeIfPresent(String.self, forKey: key)
            case "logprobs": logprobs = try c.decodeIfPresent(Bool.self, forKey: key)
            case "top_logprobs": topLogprobs = try c.decodeIfPresent(Int.self, forKey: key)
            case "frequency_penalty": frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: key)
            case "presence_penalty": presencePenalty = try c.decodeIfPresent(Double.self, forKey: key)
            case "logit_bias": logitBias = try c.decodeIfPresent(JSONValue.self, forKey: key)
            default: extra[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
            }
        }
        guard let model else {
            throw DecodingError.keyNotFound(AnyCodingKey("model"), .init(codingPath: [], debugDescription: "Missing required parameter: 'model'."))
        }
        guard let messages else {
            throw DecodingError.keyNotFound(AnyCodingKey("messages"), .init(codingPath: [], debugDescription: "Missing required parameter: 'messages'."))
        }
        self.model = model
        self.messages = messages
        self.extra = extra
    }
}

extension ChatCompletionRequest: JSONWritable {
    /// Writes the request as OpenAI JSON (what a pass-through provider sends upstream).
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("model", model)
            w.key("messages")
            w.array { w in for m in messages { m.write(to: &w) } }
            if let tools { w.key("tools"); w.array { w in for t in tools { t.write(to: &w) } } }
            if let toolChoice { w.key("tool_choice"); toolChoice.write(to: &w) }
            if let parallelToolCalls { w.field("parallel_tool_calls", parallelToolCalls) }
            if let temperature { w.key("temperature"); w.double(temperature) }
            if let topP { w.key("top_p"); w.double(topP) }
            if let maxTokens { w.field("max_tokens", maxTokens) }
            if let maxCompletionTokens { w.field("max_completion_tokens", maxCompletionTokens) }
            if let stop { w.key("stop"); w.array { w in for s in stop { w.string(s) } } }
            if let n { w.field("n", n) }
            if let stream { w.field("stream", stream) }
            if let streamOptions, let include = streamOptions.includeUsage {
                w.field("stream_options") { $0.field("include_usage", include) }
            }
            if let responseFormat { w.field("response_format", responseFormat) }
            if let seed { w.field("seed", seed) }
            if let user { w.field("user", user) }
            if let logprobs { w.field("logprobs", logprobs) }
            if let topLogprobs { w.field("top_logprobs", topLogprobs) }
            if let frequencyPenalty { w.key("frequency_penalty"); w.double(frequencyPenalty) }
            if let presencePenalty { w.key("presence_penalty"); w.double(presencePenalty) }
            if let logitBias { w.field("logit_bias", logitBias) }
            for (k, v) in extra { w.field(k, v) }
        }
    }
}
