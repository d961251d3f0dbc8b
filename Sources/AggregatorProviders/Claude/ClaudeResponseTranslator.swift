import AggregatorWire

/// Anthropic Messages answer → OpenAI `chat.completion` (WIRE §2.8).
struct ClaudeResponseTranslator {
    let id: String
    let created: Int
    let model: String
    let toolNames: ClaudeIdentifierMap

    func translate(_ response: ClaudeWire.Response) -> ChatCompletion {
        var texts: [String] = []
        var calls: [ToolCall] = []
        for block in response.content {
            switch block {
            case .text(let text): texts.append(text)
            case .toolUse(let id, let name, let input):
                calls.append(ToolCall(id: id, function: FunctionCall(name: toolNames.original(name), arguments: Self.arguments(input))))
            case .other: break  // thinking and server-tool blocks are not part of the OpenAI answer
            }
        }
        let message = AssistantMessage(content: texts.isEmpty ? nil : texts.joined(), toolCalls: calls.isEmpty ? nil : calls)
        let usage = (response.usage ?? ClaudeWire.Usage()).openAI
        return ChatCompletion(
            id: id, created: created, model: model,
            choices: [ChatChoice(message: message, finishReason: ClaudeWire.finishReason(response.stopReason))], usage: usage)
    }

    /// A tool's `input` as OpenAI `arguments` text; `{}` when there is none.
    static func arguments(_ input: JSONValue) -> String {
        if case .null = input { return "{}" }
        return input.jsonText
    }
}
