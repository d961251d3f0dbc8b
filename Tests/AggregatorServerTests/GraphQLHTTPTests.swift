import AggregatorCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// GraphQL over HTTP: the served schema, status codes, keys and admin-only operations.
@Suite struct GraphQLHTTPTests {
    static let schemaFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../Sources/AggregatorGraphQL/schema.graphql"
    ).standardized

    @Test func servedSchemaMatchesTheCommittedFile() async throws {
        try await TestGateway.runGraphQL { gw in
            let served = try await gw.get("/graphql/schema", key: nil)
            #expect(served.status == .ok)
            if ProcessInfo.processInfo.environment["UPDATE_GRAPHQL_SCHEMA"] == "1" {
                try served.text.write(to: Self.schemaFile, atomically: true, encoding: .utf8)
            }
            let committed = try String(contentsOf: Self.schemaFile, encoding: .utf8)
            #expect(served.text == committed, "schema.graphql is stale: run with UPDATE_GRAPHQL_SCHEMA=1 and review the diff")
            #expect(served.text.contains("jobs(filter: JobFilter, first: Int = 20, after: String): JobConnection!"))
            #expect(served.text.contains("usageSummary(from: DateTime, to: DateTime, groupBy: [UsageGroupBy!]! = [PROVIDER, MODEL]): [UsageAggregate!]!"))
        }
    }

    @Test func requestErrorsFollowGraphQLOverHTTP() async throws {
        try await TestGateway.runGraphQL { gw in
            let noKey = try await gw.graphQL("{ me { id } }", key: nil)
            #expect(noKey.0 == .unauthorized)
            #expect(noKey.1.errorCode == "UNAUTHENTICATED")
            let badKey = try await gw.graphQL("{ me { id } }", key: "sk-agg-nope")
            #expect(badKey.0 == .unauthorized)

            let notJSON = try await gw.post("/graphql", body: "{nope", key: gw.key)
            #expect(notJSON.status == .badRequest)
            #expect(try JSON.parse(notJSON.text)["errors"][0]["message"].string != nil)
            let noQuery = try await gw.post("/graphql", body: #"{"variables":{}}"#, key: gw.key)
            #expect(noQuery.status == .badRequest)
            let unparsable = try await gw.graphQL("{ me { id ", key: gw.key)
            #expect(unparsable.0 == .badRequest)
            #expect(unparsable.1["data"] == .null)

            // A well-formed request that fails validation: 200 with errors for application/json.
            let invalid = try await gw.graphQL("{ me { nope } }", key: gw.key)
            #expect(invalid.0 == .ok)
            #expect(invalid.1["errors"][0]["message"].string?.contains("nope") == true)

            let get = try await gw.get("/graphql?query=%7B%20me%20%7B%20name%20%7D%20%7D", key: gw.key)
            #expect(get.status == .ok)
            #expect(try JSON.parse(get.text)["data"]["me"]["name"].string == "default")
            let getMutation = try await gw.get("/graphql?query=mutation%20%7B%20deleteModelRoute(alias%3A%22x%22)%20%7D", key: TestGateway.adminKey)
            #expect(getMutation.status == .methodNotAllowed)
            #expect(getMutation.headers[.allow] == "POST")
        }
    }

    @Test func depthAndComplexityLimits() async throws {
        try await TestGateway.runGraphQL { gw in
            let wide = (1...10).map { "j\($0): jobs(first: 100) { edges { node { id input result cost } } }" }.joined(separator: " ")
            let tooComplex = try await gw.graphQL("{ \(wide) }", key: gw.key)
            #expect(tooComplex.0 == .ok)
            #expect(tooComplex.1.errorCode == "QUERY_TOO_COMPLEX")
            let deep = "{ __schema { types { " + String(repeating: "fields { type { ", count: 8) + "name" + String(repeating: " } }", count: 8) + " } } }"
            let tooDeep = try await gw.graphQL(deep, key: gw.key)
            #expect(tooDeep.1.errorCode == "QUERY_TOO_DEEP")
            let firstTooLarge = try await gw.graphQL("{ jobs(first: 1000) { totalCount } }", key: gw.key)
            #expect(firstTooLarge.1.errorCode == "BAD_USER_INPUT")
        }
    }

    @Test func adminManagesTenantsAndChangesTakeEffectAtOnce() async throws {
        try await TestGateway.runGraphQL { gw in
            let forbidden = try await gw.graphQL("{ tenants { id } }", key: gw.key)
            #expect(forbidden.1.errorCode == "FORBIDDEN")
            #expect(forbidden.1["data"].isNull)
            let denied = try await gw.graphQL(#"mutation { createTenant(name: "x") { apiKey } }"#, key: gw.key)
            #expect(denied.1.errorCode == "FORBIDDEN")

            let created = try await gw.data(#"mutation { createTenant(name: "acme") { apiKey tenant { id name active keyPrefix } } }"#, key: TestGateway.adminKey)
            let key = try #require(created["createTenant"]["apiKey"].string)
            let id = try #require(created["createTenant"]["tenant"]["id"].string)
            #expect(key.hasPrefix("sk-agg-"))
            #expect(created["createTenant"]["tenant"]["keyPrefix"].string == String(key.prefix(13)))
            #expect(try await gw.data("{ me { id name } }", key: key)["me"]["name"].string == "acme")
            let names = try await gw.data("{ tenants { name } }", key: TestGateway.adminKey)["tenants"].array.compactMap { $0["name"].string }
            #expect(Set(names) == ["default", "acme"])

            let rotated = try await gw.data(#"mutation { rotateTenantKey(id: "\#(id)") { apiKey } }"#, key: TestGateway.adminKey)
            let newKey = try #require(rotated["rotateTenantKey"]["apiKey"].string)
            #expect(try await gw.graphQL("{ me { id } }", key: key).0 == .unauthorized)
            #expect(try await gw.data("{ me { id } }", key: newKey)["me"]["id"].string == id)

            let off = try await gw.data(#"mutation { setTenantActive(id: "\#(id)", active: false) { active } }"#, key: TestGateway.adminKey)
            #expect(off["setTenantActive"]["active"].bool == false)
            let refused = try await gw.graphQL("{ me { id } }", key: newKey)
            #expect(refused.0 == .forbidden)
            #expect(try await gw.post("/v1/chat/completions", body: chatBody("hi"), key: newKey).status == .forbidden)
            _ = try await gw.data(#"mutation { setTenantActive(id: "\#(id)", active: true) { active } }"#, key: TestGateway.adminKey)
            #expect(try await gw.graphQL("{ me { id } }", key: newKey).0 == .ok)
            let unknown = try await gw.graphQL(#"mutation { setTenantActive(id: "\#(UUID())", active: true) { id } }"#, key: TestGateway.adminKey)
            #expect(unknown.1.errorCode == "NOT_FOUND")
            #expect(try await gw.data("{ me { name } }", key: TestGateway.adminKey)["me"]["name"].string == "admin")
        }
    }

    @Test func pricesAndRoutesChangeTheGatewayAtOnce() async throws {
        try await TestGateway.runGraphQL { gw in
            let tooPrecise = try await gw.graphQL(
                #"mutation { upsertModelPrice(input: {provider: "stub", model: "echo", inputPricePerMillion: "0.12345", outputPricePerMillion: "1"}) { id } }"#,
                key: TestGateway.adminKey)
            #expect(tooPrecise.1.errorCode == "BAD_USER_INPUT")
            #expect(tooPrecise.1["errors"][0]["message"].string?.contains("more than 4 fractional digits") == true)
            let asNumber = try await gw.graphQL(
                "mutation($p: Decimal!) { upsertModelPrice(input: {provider: \"stub\", model: \"echo\", inputPricePerMillion: $p, outputPricePerMillion: \"1\"}) { id } }",
                variables: #"{"p": 0.5}"#, key: TestGateway.adminKey)
            #expect(asNumber.1["errors"].array.count == 1)
            let tenantTry = try await gw.graphQL(
                #"mutation { upsertModelPrice(input: {provider: "stub", model: "echo", inputPricePerMillion: "3", outputPricePerMillion: "4"}) { id } }"#, key: gw.key)
            #expect(tenantTry.1.errorCode == "FORBIDDEN")

            let price = try await gw.data(
                "mutation($p: Decimal!) { upsertModelPrice(input: {provider: \"stub\", model: \"echo\", inputPricePerMillion: $p, outputPricePerMillion: \"4.0001\"}) { provider model inputPricePerMillion outputPricePerMillion isDefault } }",
                variables: #"{"p": "3"}"#, key: TestGateway.adminKey)
            #expect(price["upsertModelPrice"]["inputPricePerMillion"].string == "3.0000000000")
            #expect(price["upsertModelPrice"]["outputPricePerMillion"].string == "4.0001000000")
            // The very next generation is priced with it: 1 token in ("hi"), 1 out.
            _ = try await gw.post("/v1/chat/completions", body: chatBody("hi"), key: gw.key)
            let rows = try await gw.usageRows(atLeast: 1)
            #expect(rows.first?.cost == (try Money(parsing: "0.0000070001")))
            let pricing = try await gw.data("{ pricing { provider model inputPricePerMillion } }", key: gw.key)["pricing"].array
            #expect(pricing.contains { $0["model"].string == "echo" && $0["inputPricePerMillion"].string == "3.0000000000" })
            let deleted = try await gw.data(#"mutation { deleteModelPrice(provider: "stub", model: "echo") }"#, key: TestGateway.adminKey)
            #expect(deleted["deleteModelPrice"].bool == true)

            let route = try await gw.data(#"mutation { setModelRoute(alias: "smart", targets: ["stub/echo"]) { alias targets } }"#, key: TestGateway.adminKey)
            #expect(route["setModelRoute"]["targets"] == .array([.string("stub/echo")]))
            #expect(try await gw.post("/v1/chat/completions", body: chatBody("hi", model: "smart"), key: gw.key).status == .ok)
            let routes = try await gw.data("{ routes { alias targets } models { id provider } providers { name enabled healthy streaming tools } }", key: gw.key)
            #expect(Set(routes["routes"].array.compactMap { $0["alias"].string }) == ["fast", "smart"])
            #expect(routes["models"].array.contains { $0["id"].string == "stub/echo" && $0["provider"].string == "stub" })
            #expect(routes["providers"].array.contains { $0["name"].string == "stub" && $0["enabled"].bool == true })
            #expect(routes["providers"].array.contains { $0["name"].string == "openai" && $0["enabled"].bool == false })
            let badTarget = try await gw.graphQL(#"mutation { setModelRoute(alias: "x", targets: ["nope"]) { alias } }"#, key: TestGateway.adminKey)
            #expect(badTarget.1.errorCode == "BAD_USER_INPUT")
            _ = try await gw.data(#"mutation { deleteModelRoute(alias: "smart") }"#, key: TestGateway.adminKey)
            #expect(try await gw.post("/v1/chat/completions", body: chatBody("hi", model: "smart"), key: gw.key).status == .notFound)
        }
    }
}
