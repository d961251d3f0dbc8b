import AggregatorCore
import AggregatorWire

extension ClaudeRequestTranslator {
    /// The conversation as Anthropic turns (WIRE §2.7 steps 1–7): system messages lifted out, runs of the
    /// same role merged, tool results first in their user turn and paired with the calls before them, no
    /// empty text, a user turn first, no trailing whitespace in a final assistant turn.
    static func messages(
        _ messages: [ChatMessage], names: inout ClaudeIdentifierMap, ids: inout ClaudeIdentifierMap
    ) throws -> [ClaudeWire.Message] {
        var turns: [ClaudeWire.Message] = []
        for message in messages {
            let turn: ClaudeWire.Message
            switch message.role {
            case .system, .developer:
                continue
            case .user:
                turn = .init(role: .user, content: try blocks(message.content, role: "user"))
            case .tool, .function:
                let id = ids.sanitized(message.toolCallID ?? message.name ?? "")
                turn = .init(role: .user, content: [.toolResult(toolUseID: id, content: try blocks(message.content, role: "tool"), isError: false)])
            case .assistant:
                var content: [ClaudeWire.Block] = []
                let text = message.text
                if !text.isEmpty { content.append(.text(text)) }
                for call in message.toolCalls ?? [] {
                    content.append(.toolUse(id: ids.sanitized(call.id), name: names.sanitized(call.function.name), input: input(call.function.arguments)))
                }
                // An assistant turn with nothing in it (`content:""`, no calls) is left out (WIRE §5.2).
                if content.isEmpty { continue }
                turn = .init(role: .assistant, content: content)
            }
            if let last = turns.last, last.role == turn.role {
                turns[turns.count - 1].content += turn.content
            } else {
                turns.append(turn)
            }
        }
        pairToolResults(&turns)
        trimFinalAssistantTurn(&turns)
        for i in turns.indices where turns[i].role == .user && turns[i].content.isEmpty {
            turns[i].content = [.text(placeholder)]
        }
        if turns.first?.role != .user {
            turns.insert(.init(role: .user, content: [.text(placeholder)]), at: 0)
        }
        return turns
    }

    /// Tool `arguments` (a JSON string) as `input`: a JSON object, `{}` when empty or not an object (WIRE §5.6).
    static func input(_ arguments: String) -> JSONValue {
        if case .object(let object)? = JSONValue(parsing: arguments) { return .object(object) }
        return .object(JSONObject())
    }

    /// Text and image blocks of a user or tool message; empty texts dropped.
    static func blocks(_ content: MessageContent?, role: String) throws -> [ClaudeWire.Block] {
        switch content {
        case nil: return []
        case .text(let text)?: return text.isEmpty ? [] : [.text(text)]
        case .parts(let parts)?:
            return try parts.compactMap { part -> ClaudeWire.Block? in
                switch part {
                case .text(let text): return text.isEmpty ? nil : .text(text)
                case .imageURL(let url, _): return .image(try imageSource(url))
                case .other(let value):
                    let type = value["type"]?.stringValue ?? "unknown"
                    throw invalid("Content parts of type '\(type)' in \(role) messages are not supported by the claude provider.", param: "messages")
                }
            }
        }
    }

    /// `data:<media type>;base64,<data>` → a base64 source; http(s) → a url source (WIRE §2.7 step 6).
    static func imageSource(_ url: String) throws -> ClaudeWire.ImageSource {
        if url.hasPrefix("data:") {
            let rest = url.dropFirst("data:".count)
            guard let comma = rest.firstIndex(of: ","), rest[..<comma].hasSuffix(";base64") else {
                throw invalid("Image data URIs must be base64-encoded ('data:image/png;base64,…').", param: "messages")
            }
            let mediaType = rest[..<comma].dropLast(";base64".count)
            return .base64(mediaType: String(mediaType), data: String(rest[rest.index(after: comma)...]))
        }
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw invalid("Image URLs must be http(s) URLs or base64 data URIs.", param: "messages")
        }
        return .url(url)
    }

    /// Makes every `tool_use` answered in the very next user turn and every `tool_result` answer a call of
    /// the turn before (WIRE §2.2 ordering rules, §5.3): results go first; a missing result becomes an
    /// `is_error` result; a result without its call becomes plain text.
    static func pairToolResults(_ turns: inout [ClaudeWire.Message]) {
        var i = 0
        while i < turns.count {
            defer { i += 1 }
            guard turns[i].role == .user else { continue }
            var called: [String] = []
            if i > 0 {
                for case .toolUse(let id, _, _) in turns[i - 1].content { called.append(id) }
            }
            var results: [ClaudeWire.Block] = []
            var others: [ClaudeWire.Block] = []
            var answered = Set<String>()
            for block in turns[i].content {
                guard case .toolResult(let id, let content, _) = block else {
                    others.append(block)
                    continue
                }
                if called.contains(id) {
                    results.append(block)
                    answered.insert(id)
                } else {
                    let text = content.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
                    others.append(.text("Result of tool call \(id): \(text.isEmpty ? placeholder : text)"))
                }
            }
            for id in called where !answered.contains(id) {
                results.append(.toolResult(toolUseID: id, content: [.text("No result was provided for this tool call.")], isError: true))
            }
            turns[i].content = results + others
        }
        // A final assistant turn's calls still need their (missing) results.
        if let last = turns.last, last.role == .assistant, last.content.contains(where: { if case .toolUse = $0 { true } else { false } }) {
            turns.append(.init(role: .user, content: []))
            pairToolResults(&turns)
        }
    }

    /// The API rejects trailing whitespace in a final (prefill) assistant turn (WIRE §2.7 step 5).
    static func trimFinalAssistantTurn(_ turns: inout [ClaudeWire.Message]) {
        guard let last = turns.indices.last, turns[last].role == .assistant,
            case .text(let text)? = turns[last].content.last
        else { return }
        var trimmed = Substring(text)
        while let c = trimmed.last, c.isWhitespace { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty {
            turns[last].content.removeLast()
            if turns[last].content.isEmpty { turns.removeLast() }
        } else {
            turns[last].content[turns[last].content.count - 1] = .text(String(trimmed))
        }
    }
}
