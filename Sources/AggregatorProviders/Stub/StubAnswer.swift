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
    /// The stop sequence that cut the text answer, if one did.
    let stopSequence: String?

    var finishReason: FinishReason {
        if case .toolCall = kind { return .toolCalls }
        return .stop
    }

    init(_ request: ChatCompletionRequest) {
        let last = request.messages.last
        if let tool = Self.toolToCall(request), last?.role == .user {
            let arguments = Self.arguments(for: tool)
            // Unique per call, as OpenAI's are: clients key tool results by this id across a conversation.
            let id = RandomPool.hexID(prefix: "call_", digits: 24)
            kind = .toolCall(ToolCall(id: id, function: FunctionCall(name: tool.name, arguments: arguments)))
            stopSequence = nil
            usage = Usage(promptTokens: TokenEstimator.promptTokens(request.messages), completionTokens: TokenEstimator.tokens(arguments))
        } else {
            let text: String
            if let last, last.role == .tool {
                text = "Tool result: " + last.text
            } else if let structured = Self.structuredOutput(request.responseFormat) {
                text = structured
            } else {
                text = request.messages.last(where: { $0.role == .user })?.text ?? ""
            }
            let (answer, matched) = Self.cut(text, at: request.stop ?? [])
            kind = .text(answer)
            stopSequence = matched
            usage = Usage(promptTokens: TokenEstimator.promptTokens(request.messages), completionTokens: TokenEstimator.tokens(answer))
        }
    }

    /// OpenAI's `stop`: the text up to the earliest occurrence of any of the sequences (the sequence itself left
    /// out), and the sequence found there (the longest, when several start at the same place). Empty sequences
    /// never match.
    static func cut(_ text: String, at sequences: [String]) -> (text: String, matched: String?) {
        var earliest: (range: Range<String.Index>, sequence: String)?
        for sequence in sequences where !sequence.isEmpty {
            guard let range = text.range(of: sequence) else { continue }
            if let found = earliest,
                found.range.lowerBound < range.lowerBound || (found.range.lowerBound == range.lowerBound && found.sequence.count >= sequence.count)
            {
                continue
            }
            earliest = (range, sequence)
        }
        guard let earliest else { return (text, nil) }
        return (String(text[..<earliest.range.lowerBound]), earliest.sequence)
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
        var writer = JSONWriter()
        SchemaDefaults(root: tool.parameters, nested: false).writeObject(tool.parameters, depth: 0, to: &writer)
        return writer.string
    }

    /// The answer `response_format` asks for: for `json_schema`, an object built from the schema as tool arguments
    /// are (nested objects, `$ref`s, enums and unions filled in too, so a typed client can parse it into its
    /// model); for `json_object`, `{}`. Nil for text.
    static func structuredOutput(_ format: JSONValue?) -> String? {
        switch format?["type"]?.stringValue {
        case "json_object"?:
            return "{}"
        case "json_schema"?:
            let schema = format?["json_schema"]?["schema"]
            var writer = JSONWriter()
            SchemaDefaults(root: schema, nested: true).writeObject(schema, depth: 0, to: &writer)
            return writer.string
        default:
            return nil
        }
    }

    /// Writes the value the stub gives each required member of a JSON schema: strings `"stub"`, numbers `0`,
    /// booleans `false`, arrays `[]`, objects `{}` — or, `nested`, objects filled in the same way (to a bounded
    /// depth), `$ref`s into `$defs` followed, an enum's first value, a union's first non-null branch.
    private struct SchemaDefaults {
        let root: JSONValue?
        let nested: Bool
        static let maxDepth = 8

        func writeObject(_ schema: JSONValue?, depth: Int, to w: inout JSONWriter) {
            let schema = resolved(schema)
            let required = schema?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let properties = schema?["properties"]
            w.object { w in
                for name in required {
                    w.key(name)
                    writeValue(properties?[name], depth: depth + 1, to: &w)
                }
            }
        }

        private func writeValue(_ schema: JSONValue?, depth: Int, to w: inout JSONWriter) {
            // Unions and references can name each other in a circle: every step counts towards the bound.
            guard depth <= Self.maxDepth else { return w.null() }
            var schema = schema
            if nested {
                schema = resolved(schema)
                if let first = schema?["enum"]?.arrayValue?.first ?? schema?["const"] { return w.value(first) }
                if let branches = (schema?["anyOf"] ?? schema?["oneOf"])?.arrayValue,
                    let branch = branches.first(where: { schemaType(resolved($0)) != "null" }) ?? branches.first
                {
                    return writeValue(branch, depth: depth + 1, to: &w)
                }
            }
            switch schemaType(schema) {
            case "string": w.string("stub")
            case "number", "integer": w.int(0)
            case "boolean": w.bool(false)
            case "array": w.array { _ in }
            case "object":
                if nested { writeObject(schema, depth: depth, to: &w) } else { w.object { _ in } }
            default: w.null()
            }
        }

        /// A local `$ref` (`#/$defs/Name` or `#/definitions/Name`) replaced by what it names, a few hops at most.
        private func resolved(_ schema: JSONValue?) -> JSONValue? {
            var schema = schema
            for _ in 0..<Self.maxDepth {
                guard let ref = schema?["$ref"]?.stringValue else { break }
                let parts = ref.split(separator: "/").map(String.init)
                guard parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions" else { return nil }
                schema = root?[parts[1]]?[parts[2]]
            }
            return schema
        }

        private func schemaType(_ schema: JSONValue?) -> String? {
            switch schema?["type"] {
            case .string(let s)?: return s
            case .array(let types)?: return types.compactMap(\.stringValue).first { $0 != "null" }
            default: return nested && schema?["properties"] != nil ? "object" : nil
            }
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
