import AggregatorCore
import AggregatorWire
import Foundation

/// Anthropic stream events → OpenAI chunks (the state machine of WIRE §2.9).
///
/// Chunks come out in the stub's shape: a role chunk, content and tool-call chunks, then — only once
/// `message_stop` arrived — the finish chunk and the usage chunk. A stream that ends earlier is an error,
/// never a finished answer (WIRE §5.18).
struct ClaudeStreamTranslator {
    let id: String
    let created: Int
    let model: String
    let toolNames: ClaudeIdentifierMap
    /// The tool carrying a JSON-mode answer: its input streams out as content (WIRE §5.17).
    let jsonTool: String?

    private var started = false
    /// Content blocks of the JSON-mode tool; whether the model called any other tool.
    private var jsonBlocks = Set<Int>()
    private var calledClientTool = false
    /// Anthropic content-block index → OpenAI tool-call index, which counts tool calls only (WIRE §5.4).
    private var toolIndexOf: [Int: Int] = [:]
    private var argumentsSeen = Set<Int>()
    private var usage = ClaudeWire.Usage()
    private var stopReason: String?
    private(set) var finished = false

    init(id: String, created: Int, model: String, toolNames: ClaudeIdentifierMap, jsonTool: String? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.toolNames = toolNames
        self.jsonTool = jsonTool
    }

    mutating func translate(_ sse: ServerSentEvent) throws -> [ChatCompletionChunk] {
        guard !finished else { return [] }
        let event: ClaudeWire.StreamEvent
        do {
            event = try JSONReader.decode(ClaudeWire.StreamEvent.self, from: sse.dataBytes)
        } catch {
            // Data we cannot read is an error only for events we know; anything else is a newer event.
            guard let name = sse.event, ClaudeWire.StreamEvent.knownTypes.contains(name) else { return [] }
            throw UpstreamError.protocolError("unreadable \(name) event from claude")
        }
        return try translate(event)
    }

    mutating func translate(_ event: ClaudeWire.StreamEvent) throws -> [ChatCompletionChunk] {
        var out: [ChatCompletionChunk] = []
        func emit(_ delta: ChunkDelta) {
            if !started {
                started = true
                out.append(chunk(ChunkDelta(role: "assistant", content: "")))
            }
            if !delta.isEmpty { out.append(chunk(delta)) }
        }
        switch event {
        case .messageStart(let message):
            usage = usage.updated(with: message.usage)
            emit(ChunkDelta())
            // The prompt's counts are known now: a stream cut short before `message_stop` is metered from them.
            if let first = out.indices.first { out[first].usageSoFar = usage.openAI }
        case .contentBlockStart(_, .text(let text)):
            // In JSON mode the content is the tool's input; text around it would make it unparseable.
            emit(ChunkDelta(content: text.isEmpty || jsonTool != nil ? nil : text))
        case .contentBlockStart(let index, .toolUse(_, let name, let input)) where name == jsonTool:
            jsonBlocks.insert(index)
            if case .object(let object) = input, !object.isEmpty {
                argumentsSeen.insert(index)
                emit(ChunkDelta(content: input.jsonText))
            } else {
                emit(ChunkDelta())
            }
        case .contentBlockStart(let index, .toolUse(let callID, let name, let input)):
            calledClientTool = true
            let toolIndex = toolIndexOf.count
            toolIndexOf[index] = toolIndex
            emit(ChunkDelta(toolCalls: [.start(index: toolIndex, id: callID, name: toolNames.original(name))]))
            // Some Anthropic-shaped backends send the whole input up front instead of as deltas.
            if case .object(let object) = input, !object.isEmpty {
                argumentsSeen.insert(index)
                emit(ChunkDelta(toolCalls: [.arguments(index: toolIndex, input.jsonText)]))
            }
        case .contentBlockDelta(_, .text(let text)):
            if !text.isEmpty, jsonTool == nil { emit(ChunkDelta(content: text)) }
        case .contentBlockDelta(let index, .inputJSON(let fragment)) where jsonBlocks.contains(index):
            guard !fragment.isEmpty else { break }
            argumentsSeen.insert(index)
            emit(ChunkDelta(content: fragment))
        case .contentBlockDelta(let index, .inputJSON(let fragment)):
            guard let toolIndex = toolIndexOf[index], !fragment.isEmpty else { break }
            argumentsSeen.insert(index)
            emit(ChunkDelta(toolCalls: [.arguments(index: toolIndex, fragment)]))
        case .contentBlockStop(let index) where jsonBlocks.contains(index):
            if !argumentsSeen.contains(index) {
                argumentsSeen.insert(index)
                emit(ChunkDelta(content: "{}"))
            }
        case .contentBlockStop(let index):
            // A call without arguments still gets parseable ones (WIRE §5.6).
            if let toolIndex = toolIndexOf[index], !argumentsSeen.contains(index) {
                argumentsSeen.insert(index)
                emit(ChunkDelta(toolCalls: [.arguments(index: toolIndex, "{}")]))
            }
        case .messageDelta(let reason, let newUsage):
            if let reason { stopReason = reason }
            usage = usage.updated(with: newUsage)
        case .messageStop:
            emit(ChunkDelta())
            finished = true
            var finish = ClaudeWire.finishReason(stopReason)
            if !jsonBlocks.isEmpty, !calledClientTool, finish == .toolCalls { finish = .stop }
            out.append(chunk(ChunkDelta(), finish: finish))
            out.append(ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage.openAI))
        case .error(let detail):
            throw UpstreamError.inStream(message: detail.message, type: detail.type)
        case .contentBlockStart(_, .other), .contentBlockDelta(_, .other), .ping, .unknown:
            break  // thinking, signatures, citations, keep-alives and newer events
        }
        return out
    }

    /// Called when the upstream body ended: without `message_stop` the answer is incomplete.
    func end() throws {
        guard finished else { throw UpstreamError.connection("the claude stream ended before message_stop") }
    }

    private func chunk(_ delta: ChunkDelta, finish: FinishReason? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [ChunkChoice(delta: delta, finishReason: finish)])
    }
}
