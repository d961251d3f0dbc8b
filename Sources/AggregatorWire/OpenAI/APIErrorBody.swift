/// The OpenAI error body: `{"error":{"message","type","param","code"}}`, all four keys always present.
public struct APIErrorBody: Sendable, Hashable, Codable {
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(message: String, type: String, param: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    private enum Outer: String, CodingKey { case error }
    private enum Inner: String, CodingKey { case message, type, param, code }

    public init(from decoder: any Decoder) throws {
        let outer = try decoder.container(keyedBy: Outer.self)
        let c = try outer.nestedContainer(keyedBy: Inner.self, forKey: .error)
        message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "api_error"
        param = try? c.decodeIfPresent(String.self, forKey: .param)
        code = try? c.decodeIfPresent(String.self, forKey: .code)
    }

    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: Outer.self)
        var c = outer.nestedContainer(keyedBy: Inner.self, forKey: .error)
        try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type)
        try c.encode(param, forKey: .param)
        try c.encode(code, forKey: .code)
    }
}

extension APIErrorBody: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("error") { w in
                w.field("message", message)
                w.field("type", type)
                w.field("param", param)
                w.field("code", code)
            }
        }
    }
}
