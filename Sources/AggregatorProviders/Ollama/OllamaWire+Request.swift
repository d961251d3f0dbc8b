import AggregatorWire

/// `POST /api/chat` (WIRE §3.1), written with a stable key order.
struct OllamaChatRequest: Sendable, Hashable {
    var model: String
    var messages: [OllamaMessage]
    var tools: [Tool]?
    /// Always written: Ollama streams unless told otherwise (WIRE §5.16).
    var stream: Bool
    /// `"json"` or a JSON schema.
    var format: JSONValue?
    var options = OllamaOptions()
    /// `think: true` asks a thinking model for its reasoning, in `message.thinking`; nil leaves the model's default.
    var think: Bool?
}

/// Modelfile parameters set per request; only the ones the client set are written.
struct OllamaOptions: Sendable, Hashable {
    var numPredict: Int?
    var temperature: Double?
    var topP: Double?
    var seed: Int?
    var stop: [String]?
    var presencePenalty: Double?
    var frequencyPenalty: Double?

    var isEmpty: Bool { self == OllamaOptions() }
}

/// A chat message, in requests and in answers (`message` of each response line).
struct OllamaMessage: Sendable, Hashable {
    var role: String
    var content: String
    /// Base64 image data, without a `data:` prefix.
    var images: [String]?
    var toolCalls: [OllamaToolCall]?
    var toolName: String?
    var toolCallID: String?
    /// Reasoning text of thinking models; read into `reasoning_content`, never sent back.
    var thinking: String?

    init(role: String, content: String, images: [String]? = nil, toolCalls: [OllamaToolCall]? = nil,
         toolName: String? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.images = images
        self.toolCalls = toolCalls
        self.toolName = toolName
        self.toolCallID = toolCallID
    }
}

/// A tool call: `arguments` is a JSON object, not a string; `id` only from v0.12.10 on (WIRE §3.3).
struct OllamaToolCall: Sendable, Hashable {
    var id: String?
    var name: String
    var index: Int?
    var arguments: JSONValue
}

extension OllamaChatRequest: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("model", model)
            w.key("messages")
            w.array { w in for message in messages { message.write(to: &w) } }
            if let tools {
                w.key("tools")
                w.array { w in
                    for tool in tools {
                        w.object { w in
                            w.field("type", "function")
                            w.field("function") { w in
                                w.field("name", tool.name)
                                if let description = tool.description { w.field("description", description) }
                                if let parameters = tool.parameters { w.field("parameters", parameters) }
                            }
                        }
                    }
                }
            }
            w.field("stream", stream)
            if let format { w.field("format", format) }
            if !options.isEmpty { w.key("options"); options.write(to: &w) }
            if let think { w.field("think", think) }
        }
    }
}

extension OllamaOptions: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            if let numPredict { w.field("num_predict", numPredict) }
            if let temperature { w.key("temperature"); w.double(temperature) }
            if let topP { w.key("top_p"); w.double(topP) }
            if let seed { w.field("seed", seed) }
            if let stop { w.key("stop"); w.array { w in for s in stop { w.string(s) } } }
            if let presencePenalty { w.key("presence_penalty"); w.double(presencePenalty) }
            if let frequencyPenalty { w.key("frequency_penalty"); w.double(frequencyPenalty) }
        }
    }
}

extension OllamaMessage: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("role", role)
            w.field("content", content)
            if let images { w.key("images"); w.array { w in for image in images { w.string(image) } } }
            if let toolCalls { w.key("tool_calls"); w.array { w in for call in toolCalls { call.write(to: &w) } } }
            if let toolName { w.field("tool_name", toolName) }
            if let toolCallID { w.field("tool_call_id", toolCallID) }
        }
    }
}

extension OllamaToolCall: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            if let id { w.field("id", id) }
            w.field("function") { w in
                if let index { w.field("index", index) }
                w.field("name", name)
                w.field("arguments", arguments)
            }
        }
    }
}
