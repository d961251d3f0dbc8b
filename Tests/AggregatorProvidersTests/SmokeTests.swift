import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Testing

@Suite struct FakeUpstreamTests {
    @Test func fakeUpstreamRecordsAndReplies() async throws {
        let upstream = try await FakeUpstream.start { _ in .json(#"{"error":{"message":"nope","type":"invalid_request_error"}}"#, status: 400) }
        let clients = UpstreamClients(timeout: .seconds(5))
        let http = UpstreamHTTP(clients: clients, timeout: .seconds(5))
        await #expect(throws: UpstreamError.status(status: 400, message: "nope", type: "invalid_request_error", code: nil, param: nil, retryAfter: nil)) {
            _ = try await http.send(http.jsonRequest(url: upstream.baseURL + "/v1/x", body: Array("{}".utf8), headers: []), wholeRequest: true)
        }
        #expect(upstream.requests.map(\.path) == ["/v1/x"])
        #expect(upstream.requests.first?.bodyText == "{}")
        try await clients.shutdown()
        await upstream.shutdown()
    }
}
