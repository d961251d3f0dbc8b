import AggregatorGraphQL
import AggregatorServer
import Foundation
import HTTPTypes
import Testing

/// The document limits as configured, each named by its `extensions.code`. The hostile shapes themselves (thousands
/// of levels, fragment bombs, fuzzing) run against the real binary in Tests/Conformance/test_hostile_input.py.
@Suite struct GraphQLLimitTests {
    @Test func configuredLimitsAreTheOnesApplied() throws {
        let config = try AppConfig(variables: [
            "GRAPHQL_MAX_DEPTH": "4", "GRAPHQL_MAX_COMPLEXITY": "50", "GRAPHQL_MAX_QUERY_BYTES": "2000", "GRAPHQL_MAX_TOKENS": "300",
            "GRAPHQL_MAX_VALUE_DEPTH": "2", "GRAPHQL_MAX_ALIASES": "2", "GRAPHQL_MAX_FRAGMENTS": "3", "GRAPHQL_MAX_FRAGMENT_SPREADS": "4",
        ])
        #expect(
            config.graphQLLimits
                == QueryLimits(
                    maxDepth: 4, maxComplexity: 50, maxQueryBytes: 2000, maxTokens: 300, maxValueDepth: 2, maxAliases: 2, maxFragments: 3,
                    maxFragmentSpreads: 4))
        #expect(try AppConfig(variables: [:]).graphQLLimits == QueryLimits())
        do {
            _ = try AppConfig(variables: ["GRAPHQL_MAX_VALUE_DEPTH": "100"])
            Issue.record("a value depth over 32 was accepted")
        } catch {
            #expect("\(error)" == "GRAPHQL_MAX_VALUE_DEPTH: expected a whole number in 1…32, got '100'")
        }
    }

    static func small(_ config: inout AppConfig) {
        config.graphQLLimits = QueryLimits(
            maxDepth: 4, maxComplexity: 50, maxQueryBytes: 2000, maxTokens: 300, maxValueDepth: 2, maxAliases: 2, maxFragments: 3,
            maxFragmentSpreads: 4)
    }

    @Test func eachLimitIsEnforcedAtItsValueAndNotBelow() async throws {
        try await TestGateway.run(configure: Self.small) { gw in
            // At each limit: answered.
            let atLimits = """
                query { a: me { id } b: me { ...T } jobs(filter: {search: "x"}, first: 2) { edges { node { id } } } }
                fragment T on Tenant { id ...U } fragment U on Tenant { name ...V } fragment V on Tenant { active }
                """
            let answered = try await gw.graphQL(atLimits, key: gw.key)
            #expect(answered.0 == .ok)
            #expect(answered.1["errors"].isNull, "\(answered.1)")
            #expect(answered.1["data"]["b"]["name"].string == "default")

            let cases: [(String, HTTPResponse.Status, String, String)] = [
                ("{ a: me { id } b: me { id } c: me { id } }", .ok, "QUERY_TOO_MANY_ALIASES", "The query has more than 2 aliases."),
                (
                    "{ me { ...A } } fragment A on Tenant { id } fragment B on Tenant { id } fragment C on Tenant { id } fragment D on Tenant { id }",
                    .ok, "QUERY_TOO_MANY_FRAGMENTS", "The query defines more than 3 fragments."
                ),
                ("{ me { ...A ...A ...A ...A ...A } } fragment A on Tenant { id }", .ok, "QUERY_TOO_MANY_FRAGMENT_SPREADS",
                 "The query spreads fragments more than 4 times."),
                (#"{ jobs(filter: {search: [["x"]]}) { totalCount } }"#, .ok, "VALUE_TOO_DEEP",
                 "A value in the request nests lists or objects more than 2 levels deep."),
                ("{ jobs(first: 2) { edges { node { ...J } } } } fragment J on Job { id }", .ok, "", ""),
                ("{ jobs(first: 10) { edges { node { id input result } } } }", .ok, "QUERY_TOO_COMPLEX",
                 "The query's complexity is 51; at most 50 is allowed. Ask for fewer fields or smaller pages."),
                ("{ me { " + String(repeating: "id ", count: 300) + "} }", .badRequest, "QUERY_TOO_MANY_TOKENS", "The query has more than 300 tokens."),
                ("{ me { id } }" + String(repeating: " ", count: 2000), .badRequest, "QUERY_TOO_LARGE",
                 "The query is 2013 bytes long; at most 2000 are allowed."),
                ("{ a { b { c { d { e { f { g { h } } } } } } } }", .badRequest, "QUERY_TOO_DEEP", "The query nests brackets more than 7 levels deep."),
            ]
            for (query, status, code, message) in cases {
                let (got, body) = try await gw.graphQL(query, key: gw.key)
                #expect(got == status, "\(query)")
                if code.isEmpty {
                    #expect(body["errors"].isNull, "\(query): \(body)")
                } else {
                    #expect(body.errorCode == code, "\(query): \(body)")
                    #expect(body["errors"][0]["message"].string == message, "\(query)")
                }
            }
        }
    }

    @Test func depthAndComplexityCountFragmentsOnceEachWhereverTheyAreSpread() async throws {
        try await TestGateway.run(configure: { $0.graphQLLimits.maxDepth = 4 }) { gw in
            // __schema › types › fields › name: 4 levels, two of them through fragments.
            let four = "{ __schema { ...S } } fragment S on __Schema { types { ...T } } fragment T on __Type { fields { name } }"
            let answered = try await gw.graphQL(four, key: gw.key)
            #expect(answered.1["errors"].isNull, "\(answered.1)")
            let five = "{ __schema { ...S } } fragment S on __Schema { types { ...T } } fragment T on __Type { fields { type { name } } }"
            let refused = try await gw.graphQL(five, key: gw.key)
            #expect(refused.0 == .ok)
            #expect(refused.1.errorCode == "QUERY_TOO_DEEP")
            #expect(refused.1["errors"][0]["message"].string == "The query is nested 5 levels deep; at most 4 are allowed.")
        }
        // 24 fragments each spreading the one before twice: 2^25 fields when expanded, measured in 25 steps.
        try await TestGateway.run { gw in
            var fragments = ["fragment F0 on Query { me { id } }"]
            fragments += (1...24).map { "fragment F\($0) on Query { ...F\($0 - 1) ...F\($0 - 1) }" }
            let query = "{ ...F24 } " + fragments.joined(separator: " ")
            let (status, body) = try await gw.graphQL(query, key: gw.key)
            #expect(status == .ok)
            #expect(body.errorCode == "QUERY_TOO_COMPLEX")
            #expect(
                body["errors"][0]["message"].string
                    == "The query's complexity is 33554432; at most 5000 is allowed. Ask for fewer fields or smaller pages.")
        }
    }

    /// Introspection-only answers are kept per document and variables (they depend on nothing else): the same
    /// document with other variables, or one that also reads data, is executed.
    @Test func introspectionAnswersAreKeptPerDocumentAndVariables() async throws {
        try await TestGateway.run { gw in
            let byName = "query($n: String!) { __type(name: $n) { name kind } }"
            for _ in 0..<2 {
                #expect(try await gw.data(byName, variables: #"{"n":"Job"}"#, key: gw.key)["__type"]["name"].string == "Job")
                #expect(try await gw.data(byName, variables: #"{"n":"JobStatus"}"#, key: gw.key)["__type"]["kind"].string == "ENUM")
                #expect(try await gw.data(byName, variables: #"{"n":"Nope"}"#, key: gw.key)["__type"].isNull)
            }
            let mixed = "{ __typename me { name } }"
            #expect(try await gw.data(mixed, key: gw.key)["me"]["name"].string == "default")
            _ = try await gw.data(#"mutation { createTenant(name: "renamed") { tenant { id } } }"#, key: TestGateway.adminKey)
            #expect(try await gw.data("{ me { name } __typename }", key: gw.key)["me"]["name"].string == "default")
            let full = try String(contentsOfFile: "scripts/introspection.graphql", encoding: .utf8)
            let first = try await gw.graphQL(full, key: gw.key)
            let second = try await gw.graphQL(full, key: gw.key)
            #expect(first.1 == second.1)
            #expect(first.1["data"]["__schema"]["queryType"]["name"].string == "Query")
        }
    }
}
