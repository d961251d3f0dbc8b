import AggregatorWire

extension ClaudeWire {
    /// A client's `POST /v1/messages` (or `/v1/messages/count_tokens`) body as the gateway reads it (SPEC §15):
    /// the parts it can carry to an OpenAI-shaped provider, in the outbound direction's own types, plus where the
    /// `model` value and the thinking blocks the gateway made sit in the text, so that a Claude pass-through rewrites
    /// the one, cuts the others and keeps every other byte.
    ///
    /// Blocks with no counterpart elsewhere (thinking, documents that are not plain text, server tools, …) and
    /// unknown fields are left out, never refused (Claude Code sends beta fields freely).
    struct Inbound: Sendable {
        var model: String?
        /// The bytes of the `model` value (quotes included) in the body.
        var modelRange: Range<Int>?
        var maxTokens: Int?
        var system: [String] = []
        var messages: [Message] = []
        var tools: [Tool] = []
        var toolChoice: ToolChoice?
        var temperature: Double?
        var topP: Double?
        var stopSequences: [String] = []
        var stream = false
        var userID: String?
        var thinking: Thinking?
        /// `output_config.effort`.
        var effort: String?
        /// The bytes of the thinking blocks in the history that the gateway made (`AnthropicMessagesAnswer
        /// .unsignedThinking`), each with a comma that separates it from a neighbour: what a Claude pass-through cuts.
        var unsignedThinking: [Range<Int>] = []
    }
}

extension ClaudeWire.Inbound {
    /// `thinking`: `{type:"enabled", budget_tokens}`, `{type:"adaptive"}` or `{type:"disabled"}` (WIRE §2.2).
    enum Thinking: Sendable, Equatable {
        case enabled(budgetTokens: Int?)
        case adaptive
        case disabled
    }
}

extension ClaudeWire.Inbound: JSONReadable {
    init(reading r: inout JSONReader) throws {
        self.init()
        try r.readObject { r, key in
            switch key {
            case "model":
                let start = r.position
                model = try r.readString()
                modelRange = start..<r.position
            case "max_tokens": maxTokens = try r.readOptionalInt()
            case "system": system = try Self.readSystem(&r)
            case "messages": try readMessages(&r)
            case "tools": tools = try Self.readTools(&r)
            case "tool_choice": toolChoice = try r.readOptional(ClaudeWire.ToolChoice.self)
            case "temperature": temperature = try Self.readNumber(&r, "temperature")
            case "top_p": topP = try Self.readNumber(&r, "top_p")
            case "stop_sequences": stopSequences = try r.readNull() ? [] : Self.readStrings(&r)
            case "stream": stream = try r.readNull() ? false : r.readBool()
            case "thinking": thinking = try Self.readThinking(&r)
            case "output_config":
                if try r.readNull() { break }
                try r.readObject { r, key in
                    if key == "effort" { effort = try r.readOptionalString() } else { try r.skipValue() }
                }
            case "metadata":
                if try r.readNull() { break }
                try r.readObject { r, key in
                    if key == "user_id" { userID = try r.readOptionalString() } else { try r.skipValue() }
                }
            default: try r.skipValue()
            }
        }
    }

    /// `thinking`; a type this reader does not know is left out, like any unknown field.
    static func readThinking(_ r: inout JSONReader) throws -> Thinking? {
        if try r.readNull() { return nil }
        var type: String?, budget: Int?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readOptionalString()
            case "budget_tokens": budget = try r.readOptionalInt()
            default: try r.skipValue()
            }
        }
        switch type {
        case "enabled"?: return .enabled(budgetTokens: budget)
        case "adaptive"?: return .adaptive
        case "disabled"?: return .disabled
        default: return nil
        }
    }

    /// `system`: a string, or text blocks (their `cache_control` does not travel to other providers).
    static func readSystem(_ r: inout JSONReader) throws -> [String] {
        if try r.readNull() { return [] }
        if !r.nextIsObject, let text = try? r.readString() { return text.isEmpty ? [] : [text] }
        var texts: [String] = []
        try r.readArray { r in
            if case .text(let text)? = try ClaudeWire.Block.read(&r), !text.isEmpty { texts.append(text) }
        }
        return texts
    }

    /// Client tools; server tools (`web_search_…`, `bash_…`: a `type` and no `input_schema`) cannot run elsewhere.
    static func readTools(_ r: inout JSONReader) throws -> [ClaudeWire.Tool] {
        var tools: [ClaudeWire.Tool] = []
        try r.readArray { r in
            var name: String?, description: String?, schema: JSONValue?
            try r.readObject { r, key in
                switch key {
                case "name": name = try r.readString()
                case "description": description = try r.readOptionalString()
                case "input_schema": schema = try r.readValue()
                default: try r.skipValue()
                }
            }
            guard let name else { throw JSONReader.Error("tools: every tool needs a name") }
            if let schema { tools.append(ClaudeWire.Tool(name: name, description: description, inputSchema: schema)) }
        }
        return tools
    }

    static func readStrings(_ r: inout JSONReader) throws -> [String] {
        var strings: [String] = []
        try r.readArray { r in strings.append(try r.readString()) }
        return strings
    }

    static func readNumber(_ r: inout JSONReader, _ name: String) throws -> Double? {
        switch try r.readValue() {
        case .null: return nil
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: throw JSONReader.Error("\(name): expected a number")
        }
    }
}

extension ClaudeWire.Inbound {
    /// `messages`. A message whose blocks are all thinking the gateway made is cut whole from the Claude body (with
    /// the comma that separates it, as `Block.readContent` cuts a block): left with an empty `content` it would be a
    /// 400 (Anthropic joins the turns on either side). It stays in `messages`, where other providers skip it.
    mutating func readMessages(_ r: inout JSONReader) throws {
        var previousEnd: Int?
        var keptOne = false
        var leading: Int?
        try r.readArray { r in
            let start = r.position
            if let cut = leading {
                unsignedThinking.append(cut..<start)
                leading = nil
            }
            let before = unsignedThinking.count
            var onlyOurs = false
            messages.append(try ClaudeWire.Message.read(&r, unsignedThinking: &unsignedThinking, onlyGatewayThinking: &onlyOurs))
            let end = r.position
            if !onlyOurs {
                keptOne = true
            } else {
                unsignedThinking.removeSubrange(before...)
                if keptOne, let previousEnd { unsignedThinking.append(previousEnd..<end) } else { leading = start }
            }
            previousEnd = end
        }
        if let cut = leading, let previousEnd { unsignedThinking.append(cut..<previousEnd) }
    }
}

extension ClaudeWire.Message {
    /// One message of the conversation; the byte ranges of thinking blocks the gateway made go in `unsignedThinking`.
    /// `onlyGatewayThinking` says whether its content was blocks, every one a thinking block the gateway made.
    static func read(_ r: inout JSONReader, unsignedThinking: inout [Range<Int>], onlyGatewayThinking: inout Bool) throws -> ClaudeWire.Message {
        var role: ClaudeWire.Role?
        var content: [ClaudeWire.Block] = []
        try r.readObject { r, key in
            switch key {
            case "role":
                let raw = try r.readString()
                guard let known = ClaudeWire.Role(rawValue: raw) else {
                    throw JSONReader.Error("messages: role must be 'user' or 'assistant', not '\(raw)'")
                }
                role = known
            case "content":
                let before = unsignedThinking.count
                var keptAny = false
                content = try ClaudeWire.Block.readContent(&r, unsignedThinking: &unsignedThinking, keptAny: &keptAny)
                onlyGatewayThinking = !keptAny && unsignedThinking.count > before
            default: try r.skipValue()
            }
        }
        guard let role else { throw JSONReader.Error("messages: every message needs a role") }
        return ClaudeWire.Message(role: role, content: content)
    }
}

extension ClaudeWire.Block {
    /// A tool result's `content`: a string (one text block) or blocks.
    static func readContent(_ r: inout JSONReader) throws -> [ClaudeWire.Block] {
        var unsigned: [Range<Int>] = []
        var keptAny = false
        return try readContent(&r, unsignedThinking: &unsigned, keptAny: &keptAny)
    }

    /// A message's `content`: a string (one text block) or blocks. A thinking block the gateway made (its marker
    /// signature) is added to `unsignedThinking` with the comma before it, or, when no block before it stays, the
    /// comma after it, so that the array is still JSON once they are cut out.
    /// `keptAny` says whether any element is not one of those.
    static func readContent(_ r: inout JSONReader, unsignedThinking: inout [Range<Int>], keptAny: inout Bool) throws -> [ClaudeWire.Block] {
        keptAny = true
        if try r.readNull() { return [] }
        if !r.nextIsObject, let text = try? r.readString() { return text.isEmpty ? [] : [.text(text)] }
        var blocks: [ClaudeWire.Block] = []
        var previousEnd: Int?
        var keptOne = false
        // The start of a leading unsigned block, cut up to where the next element starts.
        var leading: Int?
        try r.readArray { r in
            let start = r.position
            var unsigned = false
            let block = try read(&r, unsigned: &unsigned)
            let end = r.position
            if let cut = leading {
                unsignedThinking.append(cut..<start)
                leading = nil
            }
            if !unsigned {
                keptOne = true
                if let block { blocks.append(block) }
            } else if keptOne, let previousEnd {
                unsignedThinking.append(previousEnd..<end)
            } else {
                leading = start
            }
            previousEnd = end
        }
        if let cut = leading, let previousEnd { unsignedThinking.append(cut..<previousEnd) }
        keptAny = keptOne
        return blocks
    }

    /// One block, or nil for a kind other providers cannot take (thinking, redacted thinking, server tool
    /// results, documents that are not plain text).
    static func read(_ r: inout JSONReader) throws -> ClaudeWire.Block? {
        var unsigned = false
        return try read(&r, unsigned: &unsigned)
    }

    /// One block; `unsigned` says whether it is a thinking block the gateway made.
    static func read(_ r: inout JSONReader, unsigned: inout Bool) throws -> ClaudeWire.Block? {
        var type: String?, text: String?, id: String?, name: String?, input: JSONValue?, signature: String?
        var toolUseID: String?, content: [ClaudeWire.Block] = [], isError = false, source: JSONValue?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readString()
            case "text": text = try r.readOptionalString()
            case "id": id = try r.readOptionalString()
            case "name": name = try r.readOptionalString()
            case "input": input = try r.readValue()
            case "tool_use_id": toolUseID = try r.readOptionalString()
            case "content": content = try readContent(&r)
            case "is_error": isError = try r.readNull() ? false : r.readBool()
            case "source": source = try r.readValue()
            case "signature": signature = try r.readOptionalString()
            default: try r.skipValue()
            }
        }
        unsigned = type == "thinking" && signature == AnthropicMessagesAnswer.unsignedThinking
        switch type {
        case "text"?:
            return .text(text ?? "")
        case "image"?:
            switch source?["type"]?.stringValue {
            case "base64"?:
                guard let media = source?["media_type"]?.stringValue, let data = source?["data"]?.stringValue else { return nil }
                return .image(.base64(mediaType: media, data: data))
            case "url"?:
                return source?["url"]?.stringValue.map { ClaudeWire.Block.image(.url($0)) }
            default: return nil
            }
        case "document"?:
            // A plain-text document reads as its text; PDFs and files have no counterpart elsewhere.
            guard source?["type"]?.stringValue == "text", let data = source?["data"]?.stringValue else { return nil }
            return .text(data)
        case "tool_use"?:
            guard let id, let name else { throw JSONReader.Error("messages: a tool_use block needs an id and a name") }
            return .toolUse(id: id, name: name, input: input ?? .object(JSONObject()))
        case "tool_result"?:
            guard let toolUseID else { throw JSONReader.Error("messages: a tool_result block needs a tool_use_id") }
            return .toolResult(toolUseID: toolUseID, content: content, isError: isError)
        case nil: throw JSONReader.Error("messages: a content block has no type")
        default: return nil
        }
    }
}

extension ClaudeWire.ToolChoice: JSONReadable {
    init(reading r: inout JSONReader) throws {
        var type: String?, name: String?, disable: Bool?
        try r.readObject { r, key in
            switch key {
            case "type": type = try r.readString()
            case "name": name = try r.readOptionalString()
            case "disable_parallel_tool_use": disable = try r.readNull() ? nil : r.readBool()
            default: try r.skipValue()
            }
        }
        guard let type, ["auto", "any", "tool", "none"].contains(type) else {
            throw JSONReader.Error("tool_choice: type must be 'auto', 'any', 'tool' or 'none'")
        }
        if type == "tool", name == nil { throw JSONReader.Error("tool_choice: a 'tool' choice needs a name") }
        self.init(type: type, name: name, disableParallelToolUse: disable)
    }
}
