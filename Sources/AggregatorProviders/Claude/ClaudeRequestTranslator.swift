import AggregatorCore
import AggregatorWire

/// OpenAI chat request → Anthropic Messages request (WIRE §2.7). Parameters and tools here; the message
/// algorithm is in `ClaudeRequestTranslator+Messages.swift`.
struct ClaudeRequestTranslator {
    /// `max_tokens` for requests without a cap: nil means the model's largest output, else `fallbackMaxTokens`.
    let defaultMaxTokens: Int?
    static let fallbackMaxTokens = 4096
    /// Text of a user turn that would otherwise be empty (Anthropic rejects empty turns and text blocks).
    static let placeholder = "(empty)"

    /// The request to send, and the name map that turns the upstream's tool names back into the client's.
    struct Translation {
        var request: ClaudeWire.Request
        var toolNames: ClaudeIdentifierMap
        /// The tool standing in for `response_format` (JSON mode, WIRE §5.17): its input is the answer's content.
        var jsonTool: String?
    }

    /// The name of the tool that carries a JSON-mode answer.
    static let jsonToolName = "json_tool_call"

    func translate(_ chat: ChatCompletionRequest, stream: Bool) throws -> Translation {
        try Self.rejectUnsupported(chat)
        var names = ClaudeIdentifierMap(maxLength: 128)
        var ids = ClaudeIdentifierMap(maxLength: nil)
        names.reserve((chat.tools ?? []).map(\.name) + chat.messages.flatMap { ($0.toolCalls ?? []).map(\.function.name) })
        ids.reserve(chat.messages.flatMap { ($0.toolCalls ?? []).map(\.id) + [$0.toolCallID].compactMap { $0 } })

        var request = ClaudeWire.Request(
            model: chat.model,
            maxTokens: chat.outputTokenLimit ?? defaultMaxTokens ?? ClaudeModels.maxOutputTokens(chat.model) ?? Self.fallbackMaxTokens)
        request.system = Self.systemTexts(chat.messages)
        request.messages = try Self.messages(chat.messages, names: &names, ids: &ids)
        (request.tools, request.toolChoice) = Self.tools(chat, history: request.messages, names: &names)
        let jsonTool = try Self.addJSONTool(chat, to: &request)
        if let temperature = chat.temperature {
            request.temperature = min(max(temperature, 0), 1)
        } else {
            // Newer models reject temperature and top_p together (WIRE §5.9): top_p only goes alone.
            request.topP = chat.topP
        }
        request.stopSequences = (chat.stop ?? []).filter { !$0.allSatisfy(\.isWhitespace) }
        request.stream = stream
        request.userID = chat.user
        return Translation(request: request, toolNames: names, jsonTool: jsonTool)
    }

    /// `response_format` `json_object` or `json_schema`: Anthropic has no JSON flag, so the answer is asked for as
    /// the input of a tool the model must call (WIRE §5.17), whose schema is the client's schema (any object for
    /// `json_object`). With tools of its own the model may call those instead (`tool_choice: any`); a client that
    /// named a tool to call keeps that choice.
    static func addJSONTool(_ chat: ChatCompletionRequest, to request: inout ClaudeWire.Request) throws -> String? {
        let schema: JSONValue
        switch chat.responseFormat?["type"]?.stringValue {
        case nil, "text"?: return nil
        case "json_object"?:
            schema = .object(JSONObject(["type": .string("object"), "additionalProperties": .bool(true)]))
        case "json_schema"?:
            let given = chat.responseFormat?["json_schema"]?["schema"]
            guard let given, given["type"]?.stringValue == "object" else {
                throw invalid(
                    "The claude provider answers 'json_schema' with an object: 'response_format.json_schema.schema' must have type 'object'.",
                    param: "response_format")
            }
            schema = given
        case let other?:
            throw invalid("'response_format' of type '\(other)' is not supported by the claude provider.", param: "response_format")
        }
        if request.tools.contains(where: { $0.name == jsonToolName }) {
            throw invalid("A tool named '\(jsonToolName)' cannot be used together with 'response_format'.", param: "tools")
        }
        let description = chat.responseFormat?["json_schema"]?["description"]?.stringValue ?? "Respond with the answer as this tool's input."
        let callable = request.toolChoice?.type == "none" ? [] : request.tools
        request.tools.append(ClaudeWire.Tool(name: jsonToolName, description: description, inputSchema: schema))
        if request.toolChoice?.type != "tool" {
            let parallel = request.toolChoice?.disableParallelToolUse
            request.toolChoice = callable.isEmpty ? .init(type: "tool", name: jsonToolName) : .init(type: "any")
            request.toolChoice?.disableParallelToolUse = parallel
        }
        return jsonToolName
    }

    /// Fields with no Anthropic counterpart whose silent loss would change the answer's shape.
    static func rejectUnsupported(_ chat: ChatCompletionRequest) throws {
        if let n = chat.n, n > 1 {
            throw invalid("The claude provider returns one choice; 'n' must be 1.", param: "n")
        }
    }

    static func invalid(_ message: String, param: String) -> UpstreamError {
        .status(status: 400, message: message, type: "invalid_request_error", code: nil, param: param, retryAfter: nil)
    }

    /// Every system and developer message's text, in order, one block per non-empty text (WIRE §5.13).
    static func systemTexts(_ messages: [ChatMessage]) -> [String] {
        messages.filter { $0.role == .system || $0.role == .developer }.flatMap { message -> [String] in
            switch message.content {
            case .text(let text)?: [text]
            case .parts(let parts)?: parts.compactMap(\.text)
            case nil: []
            }
        }.filter { !$0.isEmpty }
    }

    /// `tools` and `tool_choice`. When the history holds tool blocks but the client sent no tools (a
    /// summarising call), the tools it used are declared again with `tool_choice: none` (WIRE §5.12).
    static func tools(
        _ chat: ChatCompletionRequest, history: [ClaudeWire.Message], names: inout ClaudeIdentifierMap
    ) -> ([ClaudeWire.Tool], ClaudeWire.ToolChoice?) {
        var offered = chat.tools ?? []
        var choice: ClaudeWire.ToolChoice?
        switch chat.toolChoice {
        case .none?: choice = .init(type: "none")
        case .auto?: choice = .init(type: "auto")
        case .required?: choice = .init(type: "any")
        case .function(let name)?: choice = .init(type: "tool", name: names.sanitized(name))
        case .allowedTools(let mode, let allowed)?:
            offered = offered.filter { allowed.contains($0.name) }
            choice = .init(type: mode == "required" ? "any" : "auto")
        case nil: break
        }
        if chat.parallelToolCalls == false, choice?.type != "none" {
            if choice == nil { choice = .init(type: "auto") }
            choice?.disableParallelToolUse = true
        }
        let tools = offered.map { tool in
            ClaudeWire.Tool(
                name: names.sanitized(tool.name), description: tool.description,
                inputSchema: tool.parameters ?? .object(JSONObject(["type": .string("object"), "properties": .object(JSONObject())])))
        }
        if !tools.isEmpty { return (tools, choice) }
        var used: [String] = []
        for message in history {
            for case .toolUse(_, let name, _) in message.content where !used.contains(name) { used.append(name) }
        }
        guard !used.isEmpty else { return ([], nil) }
        let declared = used.map {
            ClaudeWire.Tool(
                name: $0, description: "Used earlier in this conversation; not available now.",
                inputSchema: .object(JSONObject(["type": .string("object")])))
        }
        return (declared, .init(type: "none"))
    }
}
