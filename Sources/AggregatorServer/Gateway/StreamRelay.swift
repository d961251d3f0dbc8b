import AggregatorCore
import AggregatorWire
import Foundation

/// Follows a streamed answer chunk by chunk: what the client should see (the usage chunk only when it asked
/// for it), and what was produced, for metering a stream that ends early.
struct StreamRelay {
    let wantsUsage: Bool
    private(set) var text = ""
    /// Reasoning text (`reasoning_content`), not part of the answer stored, but produced: it counts in an estimate.
    private(set) var reasoning = ""
    private(set) var toolCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    private(set) var usage: Usage?
    /// What the upstream reported before its usage chunk (see `ChatCompletionChunk.usageSoFar`).
    private(set) var usageSoFar: Usage?
    private(set) var model: String?

    init(wantsUsage: Bool) { self.wantsUsage = wantsUsage }

    /// Observes a chunk; returns the SSE frame to send, or nil when the client should not see it.
    mutating func frame(for chunk: ChatCompletionChunk) -> [UInt8]? {
        observe(chunk)
        var outgoing = chunk
        if !wantsUsage {
            if chunk.choices.isEmpty { return nil }
            outgoing.usage = nil
        }
        return ServerSentEvent.dataFrame { outgoing.write(to: &$0, usageField: wantsUsage) }
    }

    /// Follows a chunk: its text, tool calls and usage.
    mutating func observe(_ chunk: ChatCompletionChunk) {
        if model == nil, !chunk.model.isEmpty { model = chunk.model }
        if let usage = chunk.usage { self.usage = usage }
        if let soFar = chunk.usageSoFar { usageSoFar = soFar }
        for choice in chunk.choices {
            if let content = choice.delta.content { text += content }
            if let thought = choice.delta.reasoningContent { reasoning += thought }
            for call in choice.delta.toolCalls ?? [] {
                var entry = toolCalls[call.index] ?? (id: "", name: "", arguments: "")
                if let id = call.id { entry.id = id }
                if let name = call.function?.name { entry.name = name }
                if let arguments = call.function?.arguments { entry.arguments += arguments }
                toolCalls[call.index] = entry
            }
        }
    }

    /// What the stream produced, as stored in the job row.
    var output: String {
        if !text.isEmpty || toolCalls.isEmpty { return text }
        let calls = toolCalls.keys.sorted().compactMap { i in
            toolCalls[i].map { ToolCall(id: $0.id, function: FunctionCall(name: $0.name, arguments: $0.arguments)) }
        }
        var writer = JSONWriter()
        writer.array { w in for c in calls { c.write(to: &w) } }
        return writer.string
    }

    /// Text that counts as completion tokens when the upstream never reported usage (reasoning included: upstreams
    /// count reasoning tokens as output).
    var producedText: String { reasoning + text + toolCalls.values.map(\.arguments).joined() }
}
