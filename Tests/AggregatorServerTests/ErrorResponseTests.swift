import AggregatorCore
import AggregatorServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Every client-side row of SPEC §5's error table, over a real socket, with the exact body.
@Suite struct ErrorResponseTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var body: String
        var key: Key
        var status: Int
        var expected: String
        var description: String { name }

        enum Key: Sendable { case none, tenant, unknown, admin }
    }

    static let cases: [Case] = [
        Case(
            name: "no key", body: chatBody("hi"), key: .none, status: 401,
            expected: #"{"error":{"message":"You didn't provide an API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#),
        Case(
            name: "unknown key", body: chatBody("hi"), key: .unknown, status: 401,
            expected: #"{"error":{"message":"Incorrect API key provided: sk-agg-unknow….","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#),
        Case(
            name: "admin cannot generate", body: chatBody("hi"), key: .admin, status: 403,
            expected: #"{"error":{"message":"The admin key cannot make generations: use a tenant's key.","type":"permission_error","param":null,"code":"forbidden"}}"#),
        Case(
            name: "body not JSON", body: "{not json", key: .tenant, status: 400,
            expected: #"{"error":{"message":"We could not parse the JSON body of your request: expected a string at byte 1. The body must be a JSON object.","type":"invalid_request_error","param":null,"code":null}}"#),
        Case(
            name: "wrong field type", body: #"{"model":"stub/echo","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
            key: .tenant, status: 400,
            expected: #"{"error":{"message":"Invalid type for 'temperature': expected a number.","type":"invalid_request_error","param":"temperature","code":null}}"#),
        Case(
            name: "missing model", body: #"{"messages":[{"role":"user","content":"x"}]}"#, key: .tenant, status: 400,
            expected: #"{"error":{"message":"Missing required parameter: 'model'.","type":"invalid_request_error","param":"model","code":null}}"#),
        Case(
            name: "missing messages", body: #"{"model":"stub/echo"}"#, key: .tenant, status: 400,
            expected: #"{"error":{"message":"Missing required parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":null}}"#),
        Case(
            name: "bad role", body: #"{"model":"stub/echo","messages":[{"role":"user","content":"x"},{"role":"robot","content":"y"}]}"#,
            key: .tenant, status: 400,
            expected: #"{"error":{"message":"Invalid value: 'robot'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.","type":"invalid_request_error","param":"messages[1].role","code":null}}"#),
        Case(
            name: "tool message without id", body: #"{"model":"stub/echo","messages":[{"role":"tool","content":"x"}]}"#, key: .tenant, status: 400,
            expected: #"{"error":{"message":"Missing required parameter: 'messages[0].tool_call_id'.","type":"invalid_request_error","param":"messages[0].tool_call_id","code":null}}"#),
        Case(
            name: "unknown model", body: chatBody("hi", model: "gpt-9"), key: .tenant, status: 404,
            expected: #"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#),
        Case(
            name: "provider not on", body: chatBody("hi", model: "openai/gpt-4o-mini"), key: .tenant, status: 404,
            expected: #"{"error":{"message":"The model `openai/gpt-4o-mini` does not exist or you do not have access to it.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#),
        Case(
            name: "unknown stub model", body: chatBody("hi", model: "stub/nope"), key: .tenant, status: 404,
            expected: #"{"error":{"message":"The model `stub/nope` does not exist or you do not have access to it.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#),
    ]

    @Test(arguments: cases)
    func answersWithTheOpenAIErrorBody(c: Case) async throws {
        try await TestGateway.run { gateway in
            let key: String? =
                switch c.key {
                case .none: nil
                case .tenant: gateway.key
                case .unknown: "sk-agg-unknown0000000000000000000000000000000000"
                case .admin: TestGateway.adminKey
                }
            let response = try await gateway.post("/v1/chat/completions", body: c.body, key: key)
            #expect(response.status.code == c.status)
            #expect(response.text == c.expected)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[HTTPField.Name("x-request-id")!]?.hasPrefix("req_") == true)
            // Nothing was metered for a refused request.
            #expect(try await gateway.meteredRows().isEmpty)
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await TestGateway.run(configure: { $0.maxRequestBytes = 1024 }) { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody(String(repeating: "x", count: 2000)), key: gateway.key)
            #expect(response.status == .contentTooLarge)
            #expect(response.text == #"{"error":{"message":"The request body is larger than the 1024 bytes allowed.","type":"invalid_request_error","param":null,"code":"request_too_large"}}"#)
            // Just under the limit is fine.
            let ok = try await gateway.post("/v1/chat/completions", body: chatBody(String(repeating: "x", count: 900)), key: gateway.key)
            #expect(ok.status == .ok)
        }
    }

    @Test func inactiveTenantIsRefusedWithinSeconds() async throws {
        try await TestGateway.run { gateway in
            let (tenant, key) = try await gateway.createTenant("acme")
            #expect(try await gateway.post("/v1/chat/completions", body: chatBody("hi"), key: key).status == .ok)
            _ = try await gateway.store.setTenantActive(id: tenant.id, active: false)
            // The directory refreshes every second; the key must stop working within a few.
            let deadline = ContinuousClock.now + .seconds(5)
            var last: TestResponse?
            while ContinuousClock.now < deadline {
                last = try await gateway.post("/v1/chat/completions", body: chatBody("hi"), key: key)
                if last?.status == .forbidden { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(last?.status == .forbidden)
            #expect(last?.text == #"{"error":{"message":"This API key belongs to an inactive tenant.","type":"permission_error","param":null,"code":"tenant_inactive"}}"#)
        }
    }

    @Test func unknownV1PathAnswersInOpenAIFormat() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.get("/v1/nothing-here", key: gateway.key)
            #expect(response.status == .notFound)
            #expect(response.text == #"{"error":{"message":"Unknown request URL.","type":"invalid_request_error","param":null,"code":"unknown_url"}}"#)
        }
    }
}
