import AggregatorCore
import AggregatorWire

/// What the stub answers to a request (SPEC §11), decided once and shared by the plain and streamed paths.
struct StubAnswer {
    enum Kind {
        case text(String)
        case toolCall(ToolCall)
    }

    let kind: Kind
    let usage: Usage

    var finishReason: FinishReason {
        if case .toolCall = kind { return .toolCalls }
        return .stop
    }

    init(_ request: ChatCompletionRequest) {
        let last = request.messages.last
        if let tool = Self.toolToCall(request), last?.role == .user {
            let arguments = Self.arguments(for: tool)
            kind = .toolCall(ToolCall(id: "call_stub_0", function: FunctionCall(name: tool.name, arguments: arguments)))
            usage = Usage(promptTokens: TokenEstimator.promptTokens(request.messages), completionTokens: TokenEstimator.tokens(arguments))
        } else {
            let text: String
            if let last, last.role == .tool {
                text = "Tool result: " + last.text
            } else {
                text = request.messages.last(where: { $0.role == .user })?.text ?? ""
            }
            kind = .text(text)
            usage = Usage(promptTokens: TokenEstimator.promptTokens(request.messages), completionTokens: TokenEstimator.tokens(text))
        }
    }

    /// The tool the stub calls, if any: the one `tool_choice` names, else the first whose name the last user
    /// text contains, else the first when `tool_choice` is `required`.
    static func toolToCall(_ request: ChatCompletionRequest) -> Tool? {
        guard var tools = request.tools, !tools.isEmpty else { return nil }
        var required = false
        switch request.toolChoice {
        case .none?: return nil
        case .function(let name)?: return tools.first { $0.name == name }
        case .required?: required = true
        case .allowedTools(let mode, let names)?:
            tools = tools.filter { names.contains($0.name) }
            required = mode == "required"
        case .auto?, nil: break
        }
        let text = request.messages.last?.text ?? ""
        if let named = tools.first(where: { text.contains($0.name) }) { return named }
        return required ? tools.first : nil
    }

    /// A JSON object with every required parameter set by its JSON-schema type, in `required` order.
    static func arguments(for tool: Tool) -> String {
        let required = tool.parameters?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let properties = tool.parameters?["properties"]
        var writer = JSONWriter()
        writer.object { w in
            for name in required {
                w.key(name)
                switch schemaType(properties?[name]) {
                case "string": w.string("stub")
                case "number", "integer": w.int(0)
                case "boolean": w.bool(false)
                case "array": w.array { _ in }
                case "object": w.object { _ in }
                default: w.null()
                }
            }
        }
        return writer.string
    }

    private static func schemaType(_ schema: JSONValue?) -> String? {
        switch schema?["type"] {
        case .string(let s)?: return s
        case .array(let types)?: return types.compactMap(\.stringValue).first { $0 != "null" }
        default: return nil
        }
    }

    /// One piece per word; a word keeps the spaces after it (leading spaces ride with the first word).
    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            let isSpace = ch == " " || ch == "\n" || ch == "\t"
            if !isSpace && inSpace && !current.trimmingCharacters(in: [" ", "\n", "\t"]).isEmpty {
                out.append(current)
                current = ""
            }
            inSpace = isSpace
            current.append(ch)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Splits argument JSON into at least two fragments (at most eight characters each past the first).
    static func fragments(_ json: String) -> [String] {
        let characters = Array(json)
        guard characters.count >= 2 else { return [json, ""] }
        let size = max(1, min(8, characters.count / 2))
        return stride(from: 0, to: characters.count, by: size).map { String(characters[$0..<min($0 + size, characters.count)]) }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
