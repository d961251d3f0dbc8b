import AggregatorCore
import AggregatorServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/stream` and `/stream/jobs/{id}` (SPEC §6), byte for byte.
@Suite struct StreamEndpointTests {
    @Test func promptStreamsTokensThenUsageThenDone() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.post("/stream", body: #"{"model":"stub/echo","prompt":"Hello big world"}"#, key: gateway.key)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let rows = try await gateway.meteredRows()
            let job = try #require(rows.first?.1)
            #expect(response.text == """
                event: token
                data: {"text":"Hello "}

                event: token
                data: {"text":"big "}

                event: token
                data: {"text":"world"}

                event: usage
                data: {"tokensIn":4,"tokensOut":4,"cost":"0.0000120000"}

                event: done
                data: {"jobId":"\(job.id.uuidString.lowercased())"}


                """)
            #expect(job.status == .completed && job.result == "Hello big world" && job.cost.description == "0.0000120000")
        }
    }

    @Test func messagesWorkAndErrorsAreOpenAIBodies() async throws {
        try await TestGateway.run { gateway in
            let ok = try await gateway.post(
                "/stream", body: #"{"model":"fast","messages":[{"role":"user","content":"hi there"}]}"#, key: gateway.key)
            #expect(ok.text.hasPrefix("event: token\ndata: {\"text\":\"hi \"}\n\n"))
            let missing = try await gateway.post("/stream", body: #"{"model":"stub/echo"}"#, key: gateway.key)
            #expect(missing.status == .badRequest)
            #expect(missing.text == #"{"error":{"message":"Send 'messages' or 'prompt'.","type":"invalid_request_error","param":"messages","code":null}}"#)
            #expect(try await gateway.post("/stream", body: #"{"model":"x","prompt":"p"}"#, key: nil).status == .unauthorized)
            #expect(try await gateway.post("/stream", body: #"{"model":"nope","prompt":"p"}"#, key: gateway.key).status == .notFound)
        }
    }

    @Test func followsAnAsyncJobToItsEnd() async throws {
        try await TestGateway.run { gateway in
            let tenant = try #require(try await gateway.store.tenants().first)
            let jobs = try #require(gateway.app.jobs)
            let job = try await jobs.create(tenantID: tenant.id, type: .text, model: "stub/echo", input: "async hello")
            // Whatever the timing, the follower sees the job to COMPLETED and then the same frames as /stream.
            let response = try await gateway.get("/stream/jobs/\(job.id.uuidString.lowercased())", key: gateway.key)
            let tail = """
                event: status
                data: {"status":"completed"}

                event: token
                data: {"text":"async hello"}

                event: usage
                data: {"tokensIn":3,"tokensOut":3,"cost":"0.0000090000"}

                event: done
                data: {"jobId":"\(job.id.uuidString.lowercased())"}


                """
            #expect(response.text.hasSuffix(tail))
            #expect(response.text.hasPrefix("event: status\n"))

            // Another tenant cannot follow it, and cannot tell it exists.
            let (_, otherKey) = try await gateway.createTenant("other")
            let other = try await gateway.get("/stream/jobs/\(job.id.uuidString.lowercased())", key: otherKey)
            #expect(other.status == .notFound)
            #expect(other.text == #"{"error":{"message":"No such job.","type":"invalid_request_error","param":null,"code":"not_found"}}"#)

            // The job's usage row is metered once, under the job's own id.
            let rows = try await gateway.meteredRows()
            #expect(rows.filter { $0.0.jobID == job.id }.count == 1)
        }
    }
}
