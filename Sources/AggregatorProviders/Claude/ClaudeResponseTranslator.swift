import AggregatorWire

/// Anthropic Messages answer → OpenAI `chat.completion` (WIRE §2.8).
struct ClaudeResponseTranslator {
    let id: String
    let created: Int
    let model: String
    let toolNames: ClaudeIdentifierMap
    /// The tool carrying a JSON-mode answer (`response_format`), if the request asked for one.
    var jsonTool: String?

    func translate(_ response: ClaudeWire.Response) -> ChatCompletion {
        var texts: [String] = []
        var calls: [ToolCall] = []
        var json: String?
        for block in response.content {
            switch block {
            case .text(let text): texts.append(text)
            case .toolUse(_, let name, let input) where name == jsonTool: json = Self.arguments(input)
            case .toolUse(let id, let name, let input):
                calls.append(ToolCall(id: id, function: FunctionCall(name: toolNames.original(name), arguments: Self.arguments(input))))
            case .other: break  // thinking and server-tool blocks are not part of the OpenAI answer
            }
        }
        // A JSON-mode answer is the tool's input as the message's content, finished with `stop` (WIRE §5.17).
        let content = json ?? (texts.isEmpty ? nil : texts.joined())
        let message = AssistantMessage(content: content, toolCalls: calls.isEmpty ? nil : calls)
        var finish = ClaudeWire.finishReason(response.stopReason)
        if json != nil, calls.isEmpty, finish == .toolCalls { finish = .stop }
        let usage = (response.usage ?? ClaudeWire.Usage()).openAI
        return ChatCompletion(id: id, created: created, model: model, choices: [ChatChoice(message: message, finishReason: finish)], usage: usage)
    }

    /// A tool's `input` as OpenAI `arguments` text; `{}` when there is none.
    static func arguments(_ input: JSONValue) -> String {
        if case .null = input { return "{}" }
        return input.jsonText
    }
}
