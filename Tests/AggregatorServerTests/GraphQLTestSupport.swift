import AggregatorCore
import AggregatorServer
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A decoded JSON value, for reading GraphQL answers in tests.
enum JSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSON].self))
        }
    }

    static func parse(_ text: String) throws -> JSON { try JSONDecoder().decode(JSON.self, from: Data(text.utf8)) }

    subscript(key: String) -> JSON {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }

    subscript(index: Int) -> JSON {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return .null
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [JSON] { if case .array(let a) = self { a } else { [] } }
    var isNull: Bool { self == .null }
    /// The first error's `extensions.code`.
    var errorCode: String? { self["errors"][0]["extensions"]["code"].string }
}

/// JSON string literal of a Swift string.
func jsonString(_ s: String) -> String {
    var w = JSONWriter()
    w.string(s)
    return w.string
}

extension TestGateway {
    /// A gateway with the GraphQL endpoint's settings changed for the test.
    static func runGraphQL(
        settings: (inout GraphQLSettings) -> Void = { _ in },
        _ body: @Sendable (TestGateway) async throws -> Void
    ) async throws {
        try await run(graphQL: settings, body)
    }

    /// POSTs a GraphQL operation; returns the status and the decoded body.
    func graphQL(_ query: String, variables: String = "{}", key: String?) async throws -> (HTTPResponse.Status, JSON) {
        let body = #"{"query":\#(jsonString(query)),"variables":\#(variables)}"#
        let response = try await post("/graphql", body: body, key: key)
        return (response.status, try JSON.parse(response.text))
    }

    /// The `data` of a GraphQL operation that must succeed.
    func data(_ query: String, variables: String = "{}", key: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSON {
        let (status, json) = try await graphQL(query, variables: variables, key: key)
        #expect(status == .ok, sourceLocation: sourceLocation)
        #expect(json["errors"].isNull, "\(json)", sourceLocation: sourceLocation)
        return json["data"]
    }

    var jobStore: any JobStore { store as! any JobStore }

    /// Waits for the usage writer (without flushing concurrently with it) until `count` usage rows are stored.
    func usageRows(atLeast count: Int) async throws -> [UsageRecord] {
        for _ in 0..<200 {
            let rows = try await store.usageRecords(tenantID: nil, limit: 1000)
            if rows.count >= count { return rows }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await store.usageRecords(tenantID: nil, limit: 1000)
    }
}
