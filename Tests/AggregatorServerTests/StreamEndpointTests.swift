import AggregatorCore
import AggregatorServer
import Foundation
import Logging
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
            // `stub/slow` waits 50 ms before each word: the follower is there before the job ends and sees each word as
            // it is generated (a late follower gets what came before at once), then the usage and the end.
            let job = try await jobs.create(
                tenantID: tenant.id, type: .text, model: "stub/slow", input: "async hello from a slow job", logger: Logger(label: "test"))
            let id = job.id.uuidString.lowercased()
            let response = try await gateway.get("/stream/jobs/\(id)", key: gateway.key)
            let words = ["async ", "hello ", "from ", "a ", "slow ", "job"].map { "event: token\ndata: {\"text\":\"\($0)\"}\n\n" }.joined()
            let tail = words + """
                event: status
                data: {"status":"completed"}

                event: usage
                data: {"tokensIn":7,"tokensOut":7,"cost":"0.0000210000"}

                event: done
                data: {"jobId":"\(id)"}


                """
            #expect(response.text.hasSuffix(tail), "\(response.text)")
            #expect(response.text.hasPrefix("event: status\n"))

            // After the end, a follower gets the whole result as one piece.
            let late = try await gateway.get("/stream/jobs/\(id)", key: gateway.key)
            #expect(
                late.text == """
                    event: status
                    data: {"status":"completed"}

                    event: token
                    data: {"text":"async hello from a slow job"}

                    event: usage
                    data: {"tokensIn":7,"tokensOut":7,"cost":"0.0000210000"}

                    event: done
                    data: {"jobId":"\(id)"}


                    """)

            // Another tenant cannot follow it, and cannot tell it exists.
            let (_, otherKey) = try await gateway.createTenant("other")
            let other = try await gateway.get("/stream/jobs/\(id)", key: otherKey)
            #expect(other.status == .notFound)
            #expect(other.text == #"{"error":{"message":"No such job.","type":"invalid_request_error","param":null,"code":"not_found"}}"#)

            // The job's usage row is metered once, under the job's own id.
            let rows = try await gateway.meteredRows()
            #expect(rows.filter { $0.0.jobID == job.id }.count == 1)
        }
    }
}
