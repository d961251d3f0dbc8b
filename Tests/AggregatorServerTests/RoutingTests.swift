import AggregatorCore
import AggregatorServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Routes (SPEC §8): fall over to the next target before anything reached the client; a changed route is
/// honoured without any client change.
@Suite struct RoutingTests {
    static let provider = HTTPField.Name("x-aggregator-provider")!

    /// OpenAI is on but unreachable (nothing listens on port 1), so every OpenAI call fails to connect.
    static func configure(_ config: inout AppConfig) {
        config.openAI = .init(apiKey: "sk-test", baseURL: "http://127.0.0.1:1/v1")
        config.enableStub = true
        config.routes = [ModelRoute(alias: "smart", targets: ["openai/gpt-4o-mini", "stub/echo"])]
        config.upstreamTimeout = .seconds(5)
    }

    @Test func fallsOverFromAnUnreachableTarget() async throws {
        try await TestGateway.run(configure: Self.configure) { gateway in
            let plain = try await gateway.post("/v1/chat/completions", body: chatBody("still answered", model: "smart"), key: gateway.key)
            #expect(plain.status == .ok)
            #expect(plain.headers[Self.provider] == "stub")
            #expect(plain.text.contains(#""content":"still answered""#))

            let streamed = try await gateway.post("/v1/chat/completions", body: chatBody("streamed too", model: "smart", stream: true), key: gateway.key)
            #expect(streamed.status == .ok)
            #expect(streamed.headers[Self.provider] == "stub")
            #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))

            // One metered generation each, by the target that answered.
            let rows = try await gateway.meteredRows()
            #expect(rows.map { "\($0.0.provider)/\($0.0.model ?? "")" } == ["stub/echo", "stub/echo"])
        }
    }

    @Test func aSingleUnreachableTargetIs502InOpenAIFormat() async throws {
        try await TestGateway.run(configure: Self.configure) { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("hi", model: "openai/gpt-4o-mini"), key: gateway.key)
            #expect(response.status == .badGateway)
            #expect(response.text.hasPrefix(#"{"error":{"message":"The openai provider could not be reached: "#))
            #expect(response.text.hasSuffix(#"","type":"api_error","param":null,"code":"upstream_error"}}"#))
            // The failed attempt is a failed job, with no usage.
            try await gateway.app.recorder.flush()
            #expect(try await gateway.store.usageRecords(tenantID: nil, limit: 10).isEmpty)
        }
    }

    @Test func aChangedRouteIsHonouredWithoutClientChange() async throws {
        try await TestGateway.run { gateway in
            let before = try await gateway.post("/v1/chat/completions", body: chatBody("one", model: "fast"), key: gateway.key)
            #expect(before.text.contains(#""model":"echo""#))
            // An operator moves `fast` to another model (as GraphQL's setModelRoute does, through the store).
            _ = try await gateway.store.setRoute(ModelRoute(alias: "fast", targets: ["stub/slow"]))
            let deadline = ContinuousClock.now + .seconds(5)
            var after = ""
            while ContinuousClock.now < deadline {
                after = try await gateway.post("/v1/chat/completions", body: chatBody("two", model: "fast"), key: gateway.key).text
                if after.contains(#""model":"slow""#) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after.contains(#""model":"slow""#))
        }
    }
}
