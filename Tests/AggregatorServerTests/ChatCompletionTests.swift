import AggregatorCore
import AggregatorServer
import AggregatorWire
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct ChatCompletionTests {
    static let provider = HTTPField.Name("x-aggregator-provider")!
    static let requestID = HTTPField.Name("x-request-id")!

    @Test func plainCompletionIsExactAndMetered() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("Hello big world"), key: nil, headers: [.init("x-api-key")!: gateway.key])
            #expect(response.status == .ok)
            #expect(response.headers[Self.provider] == "stub")
            let requestID = try #require(response.headers[Self.requestID])
            let created = try JSONReader.decode(ChatCompletion.self, from: Array(buffer: response.body)).created
            #expect(response.text == #"{"id":"chatcmpl-\#(requestID)","object":"chat.completion","created":\#(created),"model":"echo","choices":[{"index":0,"message":{"role":"assistant","content":"Hello big world","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":4,"total_tokens":8}}"#)

            let rows = try await gateway.meteredRows()
            #expect(rows.count == 1)
            let (usage, job) = try #require(rows.first)
            #expect(usage.provider == "stub" && usage.model == "echo" && usage.tokensIn == 4 && usage.tokensOut == 4)
            // $1.00 / $2.00 per million: 4e-6 + 8e-6.
            #expect(usage.cost.description == "0.0000120000" && !usage.unpriced)
            #expect(job.status == .completed && job.result == "Hello big world" && job.cost == usage.cost)
            #expect(job.input == #"[{"role":"user","content":"Hello big world"}]"#)
        }
    }

    @Test func withoutStorePromptsJobsKeepNeitherPromptNorAnswerButAreMetered() async throws {
        try await TestGateway.run(configure: { $0.storePrompts = false }) { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("Hello big world"), key: gateway.key)
            #expect(response.status == .ok)
            let rows = try await gateway.meteredRows()
            let (usage, job) = try #require(rows.first)
            #expect(rows.count == 1 && usage.tokensIn == 4 && usage.tokensOut == 4 && usage.cost.description == "0.0000120000")
            #expect(job.status == .completed && job.input == "[redacted]" && job.result == "[redacted]")
        }
    }

    @Test func streamIsFramedByteForByte() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("Hello big world", stream: true), key: gateway.key)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(response.headers[.cacheControl] == "no-cache")
            #expect(response.headers[Self.provider] == "stub")
            let id = "chatcmpl-" + (response.headers[Self.requestID] ?? "")
            let created = try Self.created(response.text)
            func chunk(_ delta: String, finish: String = "null") -> String {
                #"data: {"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"echo","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}]}"# + "\n\n"
            }
            let expected =
                chunk(#"{"role":"assistant","content":""}"#) + chunk(#"{"content":"Hello "}"#) + chunk(#"{"content":"big "}"#)
                + chunk(#"{"content":"world"}"#) + chunk("{}", finish: #""stop""#) + "data: [DONE]\n\n"
            #expect(response.text == expected)
        }
    }

    @Test func streamWithIncludeUsageEndsWithTheUsageChunk() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/chat/completions", body: chatBody("Hi there", stream: true, includeUsage: true), key: gateway.key)
            let id = "chatcmpl-" + (response.headers[Self.requestID] ?? "")
            let created = try Self.created(response.text)
            let frames = response.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(frames.count == 6)
            #expect(frames.dropLast(2).allSatisfy { $0.hasSuffix(#","usage":null}"#) })
            #expect(frames[frames.count - 2] == #"data: {"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"echo","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}}"#)
            #expect(frames.last == "data: [DONE]")
            let rows = try await gateway.meteredRows()
            #expect(rows.map { [$0.0.tokensIn, $0.0.tokensOut] } == [[2, 2]])
            #expect(rows.first?.0.cost.description == "0.0000060000")
        }
    }

    @Test func streamedToolCallsAreMeteredFromTheUsageTheClientDidNotSee() async throws {
        try await TestGateway.run { gateway in
            let tools = #","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}]"#
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("lookup this", stream: true, extra: tools), key: gateway.key)
            #expect(!response.text.contains(#""usage""#))
            #expect(response.text.contains(#""finish_reason":"tool_calls""#))
            let rows = try await gateway.meteredRows()
            // {"q":"stub"} is 12 bytes: 3 tokens.
            #expect(rows.map { [$0.0.tokensIn, $0.0.tokensOut] } == [[3, 3]])
            let result = try #require(rows.first?.1.result)
            #expect(
                result.replacing(/call_[0-9a-f]{24}/, with: "call_ID")
                    == #"[{"id":"call_ID","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"stub\"}"}}]"#)
        }
    }

    @Test func clientThatLeavesMidStreamIsStillMeteredForWhatWasProduced() async throws {
        try await TestGateway.run { gateway in
            let port = try #require(gateway.client.port)
            let words = (1...40).map { "word\($0)" }.joined(separator: " ")
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(gateway.key)")
            request.body = .bytes(ByteBuffer(string: chatBody(words, model: "stub/slow", stream: true)))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let reader = Task {
                let response = try await client.execute(request, timeout: .seconds(30))
                var received = 0
                for try await part in response.body {
                    received += part.readableBytes
                    if received > 600 { break }  // a few chunks, then leave
                }
            }
            try await reader.value
            try await client.shutdown()
            // The server notices on its next write (50 ms later), meters what it produced and cancels upstream.
            var rows: [(UsageRecord, Job)] = []
            let deadline = ContinuousClock.now + .seconds(5)
            while rows.isEmpty && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                rows = try await gateway.meteredRows()
            }
            let (usage, job) = try #require(rows.first)
            #expect(job.status == .failed && job.error == "client disconnected")
            let produced = try #require(job.result)
            #expect(!produced.isEmpty && words.hasPrefix(produced) && produced.count < words.count)
            #expect(usage.tokensIn == TokenEstimator.tokens(words))
            #expect(usage.tokensOut == TokenEstimator.tokens(produced))
            #expect(usage.cost == ModelPrice(provider: "stub", model: "*", inputPerMillion: Money(units: 10_000_000_000), outputPerMillion: Money(units: 20_000_000_000)).cost(tokensIn: usage.tokensIn, tokensOut: usage.tokensOut))
        }
    }

    @Test func routeAliasAnswersFromItsTarget() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", body: chatBody("via alias", model: "fast"), key: gateway.key)
            #expect(response.status == .ok)
            #expect(response.headers[Self.provider] == "stub")
            #expect(response.text.contains(#""content":"via alias""#))
        }
    }

    @Test func modelsListEveryProviderModelAndAlias() async throws {
        try await TestGateway.run { gateway in
            let list = try await gateway.get("/v1/models", key: gateway.key)
            #expect(list.text == #"{"object":"list","data":[{"id":"stub/echo","object":"model","created":0,"owned_by":"stub"},{"id":"stub/slow","object":"model","created":0,"owned_by":"stub"},{"id":"fast","object":"model","created":0,"owned_by":"aggregator"}]}"#)
            let one = try await gateway.get("/v1/models/stub/slow", key: gateway.key)
            #expect(one.text == #"{"id":"stub/slow","object":"model","created":0,"owned_by":"stub"}"#)
            let missing = try await gateway.get("/v1/models/stub/none", key: gateway.key)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains(#""code":"model_not_found""#))
            #expect(try await gateway.get("/v1/models", key: nil).status == .unauthorized)
        }
    }

    @Test func healthEndpoints() async throws {
        try await TestGateway.run { gateway in
            #expect(try await gateway.get("/healthz", key: nil).text == #"{"status":"ok"}"#)
            let ready = try await gateway.get("/readyz", key: nil)
            #expect(ready.status == .ok && ready.text == #"{"status":"ready","store":"ok","usage_buffer":"ok"}"#)
            let health = try await gateway.get("/health", key: nil).text
            #expect(health.contains(#""providers":[{"name":"stub","enabled":true,"healthy":true,"streaming":true,"tools":true,"models":2}]"#))
            #expect(health.hasPrefix(#"{"status":"ok","version":"#))
        }
    }

    static func created(_ sse: String) throws -> Int {
        let range = try #require(sse.range(of: #""created":"#))
        return Int(sse[range.upperBound...].prefix { $0.isNumber })!
    }
}
