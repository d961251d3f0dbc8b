/// Roles of an OpenAI chat message (WIRE §1.3).
public enum ChatRole: String, Sendable, Codable, CaseIterable {
    case system, developer, user, assistant, tool, function
}

/// One part of an array-form message content.
public enum ContentPart: Sendable, Hashable {
    case text(String)
    case imageURL(url: String, detail: String?)
    /// Any other part (`input_audio`, `file`, `refusal`, …), kept as it came.
    case other(JSONValue)

    public var text: String? {
        if case .text(let t) = self { return t }
        if case .other(let v) = self, v["type"]?.stringValue == "refusal" { return v["refusal"]?.stringValue }
        return nil
    }
}

/// A message's `content`: a string, an array of parts, or absent/null.
public enum MessageContent: Sendable, Hashable {
    case text(String)
    case parts([ContentPart])

    /// The concatenated text of the content (text parts only).
    public var text: String {
        switch self {
        case .text(let s): return s
        case .parts(let parts): return parts.compactMap(\.text).joined()
        }
    }
}

public struct FunctionCall: Sendable, Hashable, Codable {
    public var name: String
    /// JSON-encoded arguments, as OpenAI sends them (a string, possibly invalid JSON).
    public var arguments: String

    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

/// An assistant tool call, in request history and in responses.
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String
    public var type: String
    public var function: FunctionCall

    public init(id: String, type: String = "function", function: FunctionCall) {
        self.id = id
        self.type = type
        self.function = function
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "function"
        function = try c.decode(FunctionCall.self, forKey: .function)
    }
}

public struct ChatMessage: Sendable, Hashable {
    public var role: ChatRole
    public var content: MessageContent?
    public var name: String?
    public var toolCalls: [ToolCall]?
    public var toolCallID: String?
    public var refusal: String?
    /// Fields we do not read, kept for pass-through providers.
    public var extra: JSONObject

    public init(
        role: ChatRole, content: MessageContent?, name: String? = nil, toolCalls: [ToolCall]? = nil,
        toolCallID: String? = nil, refusal: String? = nil, extra: JSONObject = JSONObject()
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.refusal = refusal
        self.extra = extra
    }

    /// The message's text, or "" when it has none.
    public var text: String { content?.text ?? "" }
}

extension ChatMessage: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        var role: ChatRole?
        var extra = JSONObject()
        content = nil
        for key in c.allKeys {
            switch key.stringValue {
            case "role":
                let raw = try c.decode(String.self, forKey: key)
                guard let r = ChatRole(rawValue: raw) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: c,
                        debugDescription: "Invalid value: '\(raw)'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'."
                    )
                }
                role = r
            case "content":
                if try c.decodeNil(forKey: key) {
                    content = nil
                } else if let s = try? c.decode(String.self, forKey: key) {
                    content = .text(s)
                } else {
                    content = .parts(try c.decode([ContentPartCoding].self, forKey: key).map(\.part))
                }
            case "name": name = try c.decodeIfPresent(String.self, forKey: key)
            case "tool_calls": toolCalls = try c.decodeIfPresent([ToolCall].self, forKey: key)
            case "tool_call_id": toolCallID = try c.decodeIfPresent(String.self, forKey: key)
            case "refusal": refusal = try c.decodeIfPresent(String.self, forKey: key)
            default: extra[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
            }
        }
        guard let role else {
            throw DecodingError.keyNotFound(
                AnyCodingKey("role"), .init(codingPath: decoder.codingPath, debugDescription: "Missing required parameter: 'role'."))
        }
        self.role = role
        self.extra = extra
    }
}

/// Decodes one content part; text and image parts typed, others kept raw.
struct ContentPartCoding: Decodable {
    var part: ContentPart

    init(from decoder: any Decoder) throws {
        switch ContentPart.from(try JSONValue(from: decoder)) {
        case .success(let part): self.part = part
        case .failure(.notAnObject):
            throw DecodingError.typeMismatch(
                ContentPart.self, .init(codingPath: decoder.codingPath, debugDescription: "Each content part must be an object with a 'type'."))
        case .failure(.missing(let key, let message)):
            throw DecodingError.keyNotFound(AnyCodingKey(key), .init(codingPath: decoder.codingPath, debugDescription: message))
        }
    }
}

extension ContentPart {
    enum Problem: Error {
        case notAnObject
        case missing(key: String, message: String)
    }

    /// The part a JSON value describes: text and image parts typed, others kept raw.
    static func from(_ raw: JSONValue) -> Result<ContentPart, Problem> {
        guard case .object(let object) = raw, let type = object["type"]?.stringValue else { return .failure(.notAnObject) }
        switch type {
        case "text":
            guard let text = object["text"]?.stringValue else { return .failure(.missing(key: "text", message: "Missing required parameter: 'text'.")) }
            return .success(.text(text))
        case "image_url":
            switch object["image_url"] {
            case .string(let url): return .success(.imageURL(url: url, detail: nil))
            case .object(let image):
                guard let url = image["url"]?.stringValue else { fallthrough }
                return .success(.imageURL(url: url, detail: image["detail"]?.stringValue))
            default: return .failure(.missing(key: "image_url", message: "Missing required parameter: 'image_url.url'."))
            }
        default:
            return .success(.other(raw))
        }
    }
}

extension ContentPart: JSONWritable {
    public func write(to w: inout JSONWriter) {
        switch self {
        case .text(let text):
            w.object { w in
                w.field("type", "text")
                w.field("text", text)
            }
        case .imageURL(let url, let detail):
            w.object { w in
                w.field("type", "image_url")
                w.field("image_url") { w in
                    w.field("url", url)
                    if let detail { w.field("detail", detail) }
                }
            }
        case .other(let value):
            w.value(value)
        }
    }
}

extension ToolCall: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("id", id)
            w.field("type", type)
            w.field("function") { w in
                w.field("name", function.name)
                w.field("arguments", function.arguments)
            }
        }
    }
}

extension ChatMessage: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("role", role.rawValue)
            w.key("content")
            switch content {
            case .none: w.null()
            case .text(let s): w.string(s)
            case .parts(let parts): w.array { w in for p in parts { p.write(to: &w) } }
            }
            if let name { w.field("name", name) }
            if let toolCalls { w.key("tool_calls"); w.array { w in for t in toolCalls { t.write(to: &w) } } }
            if let toolCallID { w.field("tool_call_id", toolCallID) }
            if let refusal { w.field("refusal", refusal) }
            for (k, v) in extra { w.field(k, v) }
        }
    }
}
