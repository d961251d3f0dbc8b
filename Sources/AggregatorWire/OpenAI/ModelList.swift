/// One entry of `GET /v1/models` (WIRE §1.7).
public struct ModelObject: Sendable, Hashable, Codable {
    public var id: String
    public var created: Int
    public var ownedBy: String

    public init(id: String, created: Int, ownedBy: String) {
        self.id = id
        self.created = created
        self.ownedBy = ownedBy
    }

    enum CodingKeys: String, CodingKey { case id, created, ownedBy = "owned_by" }
}

extension ModelObject: JSONWritable {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("id", id)
            w.field("object", "model")
            w.field("created", created)
            w.field("owned_by", ownedBy)
        }
    }
}

public struct ModelList: Sendable, Hashable, JSONWritable {
    public var data: [ModelObject]
    public init(data: [ModelObject]) { self.data = data }

    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.field("object", "list")
            w.key("data")
            w.array { w in for model in data { model.write(to: &w) } }
        }
    }
}
