import AggregatorCore
import AggregatorWire

/// OpenAI request → Ollama `/api/chat` request (WIRE §3.6).
///
/// What Ollama cannot take is refused with a 400 before anything is sent (http image URLs, audio or file
/// parts, tool-call arguments that are not a JSON object); what it has no equivalent for is dropped
/// (`tool_choice` beyond narrowing the tool list, `n`, `logit_bias`, `user`).
enum OllamaRequestTranslator {
    static func translate(_ chat: ChatCompletionRequest, stream: Bool) throws -> OllamaChatRequest {
        var request = OllamaChatRequest(
            model: chat.model, messages: try messages(chat.messages), tools: tools(chat), stream: stream,
            format: format(chat.responseFormat))
        request.options = OllamaOptions(
            numPredict: chat.outputTokenLimit, temperature: chat.temperature, topP: chat.topP, seed: chat.seed,
            stop: chat.stop, presencePenalty: chat.presencePenalty, frequencyPenalty: chat.frequencyPenalty)
        request.think = think(chat.reasoningEffort)
        return request
    }

    static func messages(_ messages: [ChatMessage]) throws -> [OllamaMessage] {
        // Tool results name their call by id; Ollama wants the function's name, known from earlier turns.
        var toolNames: [String: String] = [:]
        return try messages.map { message in
            switch message.role {
            case .system, .developer:
                return OllamaMessage(role: "system", content: try text(message))
            case .user:
                let (content, images) = try userContent(message.content)
                return OllamaMessage(role: "user", content: content, images: images.isEmpty ? nil : images)
            case .assistant:
                let calls = try (message.toolCalls ?? []).map { call in
                    toolNames[call.id] = call.function.name
                    return OllamaToolCall(id: call.id, name: call.function.name, arguments: try arguments(call))
                }
                return OllamaMessage(role: "assistant", content: try text(message), toolCalls: calls.isEmpty ? nil : calls)
            case .tool, .function:
                let name = message.name ?? message.toolCallID.flatMap { toolNames[$0] }
                return OllamaMessage(role: "tool", content: try text(message), toolName: name, toolCallID: message.toolCallID)
            }
        }
    }

    /// The tools offered: all of them, none for `tool_choice:"none"`, or the ones `tool_choice` narrows to
    /// (Ollama cannot force a call, so a named or required choice stays a hint).
    static func tools(_ chat: ChatCompletionRequest) -> [Tool]? {
        guard let tools = chat.tools, !tools.isEmpty else { return nil }
        switch chat.toolChoice {
        case .none?: return nil
        case .function(let name)?: return tools.filter { $0.name == name }
        case .allowedTools(_, let names)?: return tools.filter { names.contains($0.name) }
        case .auto?, .required?, nil: return tools
        }
    }

    /// `reasoning_effort` → `think`: any effort but `none` asks for thinking (`true`). Ollama's effort levels are for
    /// gpt-oss alone; its other thinking models take only a boolean, so the level is not sent.
    static func think(_ effort: String?) -> Bool? {
        guard let effort else { return nil }
        return effort != "none"
    }

    /// `json_object` → `"json"`; `json_schema` → its schema; `text` → nothing.
    static func format(_ responseFormat: JSONValue?) -> JSONValue? {
        switch responseFormat?["type"]?.stringValue {
        case "json_object": return .string("json")
        case "json_schema": return responseFormat?["json_schema"]?["schema"] ?? .string("json")
        default: return nil
        }
    }

    /// Arguments as an object: OpenAI's string parsed; `""` (a call without arguments) becomes `{}`.
    static func arguments(_ call: ToolCall) throws -> JSONValue {
        let text = call.function.arguments
        if text.allSatisfy(\.isWhitespace) { return .object(JSONObject()) }
        guard let value = JSONValue(parsing: text), case .object = value else {
            throw invalid("The arguments of tool call '\(call.id)' are not a JSON object; Ollama needs one.")
        }
        return value
    }

    private static func text(_ message: ChatMessage) throws -> String {
        switch message.content {
        case nil: return ""
        case .text(let text)?: return text
        case .parts(let parts)?:
            return try parts.map { part in
                guard let text = part.text else { throw invalid("Only text parts are supported in \(message.role.rawValue) messages for Ollama models.") }
                return text
            }.joined(separator: "\n")
        }
    }

    /// A user message's text (parts joined by newlines) and its images as bare base64.
    private static func userContent(_ content: MessageContent?) throws -> (String, [String]) {
        guard case .parts(let parts)? = content else { return (content?.text ?? "", []) }
        var texts: [String] = []
        var images: [String] = []
        for part in parts {
            switch part {
            case .text(let text): texts.append(text)
            case .imageURL(let url, _): images.append(try imageData(url))
            case .other:
                throw invalid("Only text and image_url content parts are supported for Ollama models.")
            }
        }
        return (texts.joined(separator: "\n"), images)
    }

    /// `data:image/png;base64,AAAA` → `AAAA`. Ollama takes no image URLs.
    private static func imageData(_ url: String) throws -> String {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
              url[..<comma].hasSuffix(";base64")
        else {
            throw invalid("Image URLs are not supported for Ollama models; send the image as a data:image/…;base64 URI.")
        }
        return String(url[url.index(after: comma)...])
    }

    private static func invalid(_ message: String) -> UpstreamError {
        .status(status: 400, message: message, type: "invalid_request_error", code: nil, param: "messages", retryAfter: nil)
    }
}
