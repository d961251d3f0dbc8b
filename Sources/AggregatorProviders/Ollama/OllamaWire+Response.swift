import AggregatorWire

/// One line of `/api/chat` (or the whole non-streamed answer), WIRE §3.2. Counts are `omitempty` upstream:
/// a missing count is zero. `error` is set on a failure line after the 200.
struct OllamaChatResponse: Sendable, Hashable, Decodable {
    var model: String?
    var message: OllamaMessage?
    var done: Bool
    var doneReason: String?
    var promptEvalCount: Int?
    var evalCount: Int?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case model, message, done, error
        case doneReason = "done_reason", promptEvalCount = "prompt_eval_count", evalCount = "eval_count"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        message = try c.decodeIfPresent(OllamaMessage.self, forKey: .message)
        done = try c.decodeIfPresent(Bool.self, forKey: .done) ?? false
        doneReason = try c.decodeIfPresent(String.self, forKey: .doneReason)
        promptEvalCount = try c.decodeIfPresent(Int.self, forKey: .promptEvalCount)
        evalCount = try c.decodeIfPresent(Int.self, forKey: .evalCount)
        // `{"error":"…"}` is Ollama's shape; an OpenAI-style object from a proxy in front of it is read too.
        switch try c.decodeIfPresent(JSONValue.self, forKey: .error) {
        case .string(let text)?: error = text
        case .object(let object)?: error = object["message"]?.stringValue ?? "ollama reported an error"
        default: error = nil
        }
    }
}

/// `GET /api/tags` (WIRE §3.4).
struct OllamaTags: Sendable, Decodable {
    struct Entry: Sendable, Decodable {
        var name: String?
        var model: String?
    }

    var models: [Entry]
}

extension OllamaMessage: Decodable {
    enum CodingKeys: String, CodingKey {
        case role, content, images, thinking
        case toolCalls = "tool_calls", toolName = "tool_name", toolCallID = "tool_call_id"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decodeIfPresent(String.self, forKey: .role) ?? "assistant"
        content = try c.decodeIfPresent(String.self, forKey: .content) ?? ""
        images = try c.decodeIfPresent([String].self, forKey: .images)
        toolCalls = try c.decodeIfPresent([OllamaToolCall].self, forKey: .toolCalls)
        toolName = try c.decodeIfPresent(String.self, forKey: .toolName)
        toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
        thinking = try c.decodeIfPresent(String.self, forKey: .thinking)
    }
}

extension OllamaToolCall: Decodable {
    enum CodingKeys: String, CodingKey { case id, function }
    enum FunctionKeys: String, CodingKey { case name, index, arguments }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        let f = try c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try f.decode(String.self, forKey: .name)
        index = try f.decodeIfPresent(Int.self, forKey: .index)
        arguments = try f.decodeIfPresent(JSONValue.self, forKey: .arguments) ?? .object(JSONObject())
    }
}
