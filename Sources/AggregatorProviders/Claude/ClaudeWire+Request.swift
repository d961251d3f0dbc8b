import AggregatorWire

/// Types of the Anthropic Messages API (WIRE §2), as we send and read them.
enum ClaudeWire {}

extension ClaudeWire {
    enum Role: String, Sendable {
        case user, assistant
    }

    /// The body of `POST /v1/messages` (WIRE §2.2), written with a stable key order.
    struct Request: Sendable, Hashable {
        var model: String
        var maxTokens: Int
        var system: [String] = []
        var messages: [Message] = []
        var tools: [Tool] = []
        var toolChoice: ToolChoice?
        var temperature: Double?
        var topP: Double?
        var stopSequences: [String] = []
        var stream: Bool = false
        var userID: String?
    }

    struct Message: Sendable, Hashable {
        var role: Role
        var content: [Block]
    }

    /// A content block of a request message.
    enum Block: Sendable, Hashable {
        case text(String)
        case image(ImageSource)
        case toolUse(id: String, name: String, input: JSONValue)
        case toolResult(toolUseID: String, content: [Block], isError: Bool)
    }

    enum ImageSource: Sendable, Hashable {
        case base64(mediaType: String, data: String)
        case url(String)
    }

    struct Tool: Sendable, Hashable {
        var name: String
        var description: String?
        var inputSchema: JSONValue
    }

    /// `{type:"auto"|"any"|"none"}` or `{type:"tool", name}`, optionally with `disable_parallel_tool_use`.
    struct ToolChoice: Sendable, Hashable {
        var type: String
        var name: String?
        var disableParallelToolUse: Bool?
    }
}

extension ClaudeWire.Request: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("model", model)
            w.field("max_tokens", maxTokens)
            if !system.isEmpty {
                w.key("system")
                w.array { w in for text in system { ClaudeWire.Block.text(text).write(to: &w) } }
            }
            w.key("messages")
            w.array { w in for message in messages { message.write(to: &w) } }
            if !tools.isEmpty {
                w.key("tools")
                w.array { w in for tool in tools { tool.write(to: &w) } }
            }
            if let toolChoice { w.key("tool_choice"); toolChoice.write(to: &w) }
            if let temperature { w.key("temperature"); w.double(temperature) }
            if let topP { w.key("top_p"); w.double(topP) }
            if !stopSequences.isEmpty {
                w.key("stop_sequences")
                w.array { w in for s in stopSequences { w.string(s) } }
            }
            if stream { w.field("stream", true) }
            if let userID { w.field("metadata") { $0.field("user_id", userID) } }
        }
    }
}

extension ClaudeWire.Message: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("role", role.rawValue)
            w.key("content")
            w.array { w in for block in content { block.write(to: &w) } }
        }
    }
}

extension ClaudeWire.Block: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            switch self {
            case .text(let text):
                w.field("type", "text")
                w.field("text", text)
            case .image(let source):
                w.field("type", "image")
                w.field("source") { w in
                    switch source {
                    case .base64(let mediaType, let data):
                        w.field("type", "base64")
                        w.field("media_type", mediaType)
                        w.field("data", data)
                    case .url(let url):
                        w.field("type", "url")
                        w.field("url", url)
                    }
                }
            case .toolUse(let id, let name, let input):
                w.field("type", "tool_use")
                w.field("id", id)
                w.field("name", name)
                w.field("input", input)
            case .toolResult(let toolUseID, let content, let isError):
                w.field("type", "tool_result")
                w.field("tool_use_id", toolUseID)
                // A lone text result goes as the string shorthand; an empty result omits `content`.
                if content.count == 1, case .text(let text) = content[0] {
                    w.field("content", text)
                } else if !content.isEmpty {
                    w.key("content")
                    w.array { w in for block in content { block.write(to: &w) } }
                }
                if isError { w.field("is_error", true) }
            }
        }
    }
}

extension ClaudeWire.Tool: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("name", name)
            if let description { w.field("description", description) }
            w.field("input_schema", inputSchema)
        }
    }
}

extension ClaudeWire.ToolChoice: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("type", type)
            if let name { w.field("name", name) }
            if let disableParallelToolUse { w.field("disable_parallel_tool_use", disableParallelToolUse) }
        }
    }
}
