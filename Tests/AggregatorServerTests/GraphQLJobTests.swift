import AggregatorCore
import AggregatorServer
import Foundation
import Testing

/// Jobs and usage through GraphQL: tenant isolation, cursor pages, exact usage sums.
@Suite struct GraphQLJobTests {
    static let jobFields = "id tenantId type status input result error provider model tokensIn tokensOut cost createdAt updatedAt startedAt finishedAt"

    @Test func jobsAreIsolatedBetweenTenants() async throws {
        try await TestGateway.runGraphQL { gw in
            let (tenantB, keyB) = try await gw.createTenant("b")
            let created = try await gw.data(
                #"mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "hello there"}) { \#(Self.jobFields) } }"#, key: gw.key)
            let job = created["createJob"]
            #expect(job["status"].string == "PENDING")
            #expect(job["type"].string == "TEXT")
            let id = try #require(job["id"].string)
            // It completes through the worker with tokens and cost.
            var done = JSON.null
            for _ in 0..<100 {
                done = try await gw.data(#"{ job(id: "\#(id)") { \#(Self.jobFields) } }"#, key: gw.key)["job"]
                if done["status"].string == "COMPLETED" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(done["status"].string == "COMPLETED")
            #expect(done["result"].string == "hello there")
            #expect(done["tokensIn"].int == 3 && done["tokensOut"].int == 3)
            #expect(done["cost"].string == "0.0000090000")
            #expect(done["startedAt"].string != nil && done["finishedAt"].string != nil)

            // B: by id null, by list absent, by filter absent, cancel not found.
            #expect(try await gw.data(#"{ job(id: "\#(id)") { id } }"#, key: keyB)["job"].isNull)
            let listB = try await gw.data(#"{ jobs(filter: {tenantId: "\#(job["tenantId"].string!)"}) { totalCount edges { node { id } } } }"#, key: keyB)
            #expect(listB["jobs"]["totalCount"].int == 0)
            let cancelB = try await gw.graphQL(#"mutation { cancelJob(id: "\#(id)") { id } }"#, key: keyB)
            #expect(cancelB.1.errorCode == "NOT_FOUND")
            #expect(try await gw.data(#"{ job(id: "not-a-uuid") { id } }"#, key: keyB)["job"].isNull)

            // The admin sees both tenants and filters by tenant.
            _ = try await gw.data(#"mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "b's"}) { id } }"#, key: keyB)
            let all = try await gw.data("{ jobs { totalCount } }", key: TestGateway.adminKey)
            #expect(all["jobs"]["totalCount"].int == 2)
            let onlyB = try await gw.data(#"{ jobs(filter: {tenantId: "\#(tenantB.id.uuidString)"}) { edges { node { input } } } }"#, key: TestGateway.adminKey)
            #expect(onlyB["jobs"]["edges"].array.map { $0["node"]["input"].string } == ["b's"])
            let adminCreate = try await gw.graphQL(#"mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "x"}) { id } }"#, key: TestGateway.adminKey)
            #expect(adminCreate.1.errorCode == "BAD_USER_INPUT")
            let unknownModel = try await gw.graphQL(#"mutation { createJob(input: {type: TEXT, model: "nope/nope", input: "x"}) { id } }"#, key: gw.key)
            #expect(unknownModel.1.errorCode == "BAD_USER_INPUT")

            // Filters.
            #expect(try await gw.data(#"{ jobs(filter: {status: COMPLETED, search: "HELLO"}) { totalCount } }"#, key: gw.key)["jobs"]["totalCount"].int == 1)
            #expect(try await gw.data(#"{ jobs(filter: {status: FAILED}) { totalCount } }"#, key: gw.key)["jobs"]["totalCount"].int == 0)
            #expect(try await gw.data(#"{ jobs(filter: {provider: "stub", model: "echo", type: TEXT}) { totalCount } }"#, key: gw.key)["jobs"]["totalCount"].int == 1)
            #expect(try await gw.data(#"{ jobs(filter: {from: "2100-01-01T00:00:00Z"}) { totalCount } }"#, key: gw.key)["jobs"]["totalCount"].int == 0)
            #expect(try await gw.data(#"{ jobs(filter: {to: "2100-01-01T00:00:00+02:00"}) { totalCount } }"#, key: gw.key)["jobs"]["totalCount"].int == 1)
        }
    }

    @Test func cancelAPendingJob() async throws {
        try await TestGateway.runGraphQL { gw in
            // The worker queues the store's pending jobs once, as it starts: a job inserted before that would run.
            // One job through the worker first shows it has started.
            let warm = try await gw.data(#"mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "warm"}) { id } }"#, key: gw.key)
            let warmID = try #require(warm["createJob"]["id"].string)
            for _ in 0..<250 {
                let status = try await gw.data(#"{ job(id: "\#(warmID)") { status } }"#, key: gw.key)["job"]["status"].string
                if status == "COMPLETED" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let job = Job(tenantID: try #require(try await gw.store.tenants().first?.id), status: .pending, input: "later", model: "stub/echo", createdAt: Date(), updatedAt: Date())
            try await gw.jobStore.insertJob(job)
            let cancelled = try await gw.data(#"mutation { cancelJob(id: "\#(job.id.uuidString)") { status finishedAt } }"#, key: gw.key)
            #expect(cancelled["cancelJob"]["status"].string == "CANCELLED")
            #expect(cancelled["cancelJob"]["finishedAt"].string != nil)
        }
    }

    @Test func paginationWalkWithInsertsInBetween() async throws {
        try await TestGateway.runGraphQL { gw in
            let tenant = try #require(try await gw.store.tenants().first)
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            var original: Set<String> = []
            for i in 0..<300 {
                // Several jobs share a millisecond, so the id breaks ties.
                let at = start.addingTimeInterval(Double(i / 3) / 1000)
                let job = Job(tenantID: tenant.id, status: .completed, input: "job \(i)", model: "echo", createdAt: at, updatedAt: at)
                try await gw.jobStore.insertJob(job)
                original.insert(job.id.uuidString.lowercased())
            }
            var seen: [String] = []
            var after = "null"
            var pages = 0
            while true {
                let page = try await gw.data(
                    "query($after: String) { jobs(first: 37, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
                    variables: #"{"after": \#(after)}"#, key: gw.key)["jobs"]
                #expect(page["totalCount"].int == 300 + pages)
                seen += page["edges"].array.compactMap { $0["node"]["id"].string }
                // A new job arrives between pages; it is newer than everything, so it lands before page one.
                let now = Date()
                try await gw.jobStore.insertJob(Job(tenantID: tenant.id, status: .pending, input: "new", createdAt: now, updatedAt: now))
                pages += 1
                guard page["pageInfo"]["hasNextPage"].bool == true, let cursor = page["pageInfo"]["endCursor"].string else { break }
                after = jsonString(cursor)
            }
            #expect(seen.count == Set(seen).count, "no duplicates")
            #expect(Set(seen) == original, "no gaps")
            #expect(pages == 9)
        }
    }

    @Test func usageSummaryByEveryGrouping() async throws {
        try await TestGateway.runGraphQL { gw in
            let (tenantB, keyB) = try await gw.createTenant("b")
            let tenantA = try #require(try await gw.store.tenants().first { $0.name == "default" })
            let day1 = try Date("2025-03-01T10:00:00Z", strategy: .iso8601)
            let day2 = try Date("2025-03-02T23:59:59Z", strategy: .iso8601)
            struct Row { var tenant: UUID; var provider: String; var model: String; var at: Date; var tin: Int; var tout: Int; var cost: String }
            let rows = [
                Row(tenant: tenantA.id, provider: "stub", model: "echo", at: day1, tin: 10, tout: 20, cost: "0.0000000001"),
                Row(tenant: tenantA.id, provider: "stub", model: "slow", at: day2, tin: 1, tout: 2, cost: "0.0000000002"),
                Row(tenant: tenantA.id, provider: "openai", model: "gpt-4o", at: day1, tin: 100, tout: 200, cost: "0.0025000000"),
                Row(tenant: tenantB.id, provider: "stub", model: "echo", at: day2, tin: 5, tout: 5, cost: "1.1000000003"),
            ]
            var generations: [Generation] = []
            for row in rows {
                let job = Job(tenantID: row.tenant, status: .completed, input: "x", provider: row.provider, model: row.model, tokensIn: row.tin, tokensOut: row.tout, cost: try Money(parsing: row.cost), createdAt: row.at, updatedAt: row.at)
                let usage = UsageRecord(tenantID: row.tenant, jobID: job.id, provider: row.provider, model: row.model, tokensIn: row.tin, tokensOut: row.tout, cost: try Money(parsing: row.cost), unpriced: false, createdAt: row.at)
                generations.append(Generation(job: job, usage: usage))
            }
            try await gw.store.record(generations)

            func expected(_ groups: [String], tenant: UUID?) throws -> Set<String> {
                var sums: [String: (Int, Int, Int, Int64)] = [:]
                for row in rows where tenant == nil || row.tenant == tenant {
                    let day = String(RFC3339.string(row.at).prefix(10))
                    let key = [
                        groups.contains("TENANT") ? row.tenant.uuidString.lowercased() : "-", groups.contains("PROVIDER") ? row.provider : "-",
                        groups.contains("MODEL") ? row.model : "-", groups.contains("DAY") ? day : "-",
                    ].joined(separator: "|")
                    var s = sums[key] ?? (0, 0, 0, 0)
                    s = (s.0 + 1, s.1 + row.tin, s.2 + row.tout, s.3 + (try Money(parsing: row.cost)).units)
                    sums[key] = s
                }
                return Set(sums.map { "\($0.key)|\($0.value.0)|\($0.value.1)|\($0.value.2)|\(Money(units: $0.value.3))" })
            }
            func actual(_ groups: [String], key: String) async throws -> Set<String> {
                let list = try await gw.data("{ usageSummary(groupBy: [\(groups.joined(separator: ", "))]) { tenantId provider model day requests tokensIn tokensOut cost } }", key: key)
                return Set(list["usageSummary"].array.map { a in
                    [a["tenantId"].string ?? "-", a["provider"].string ?? "-", a["model"].string ?? "-", a["day"].string ?? "-", "\(a["requests"].int!)", "\(a["tokensIn"].int!)", "\(a["tokensOut"].int!)", a["cost"].string!].joined(separator: "|")
                })
            }
            let all = ["PROVIDER", "MODEL", "TENANT", "DAY"]
            for mask in 0..<16 {
                let groups = all.indices.filter { mask & (1 << $0) != 0 }.map { all[$0] }
                #expect(try await actual(groups, key: TestGateway.adminKey) == expected(groups, tenant: nil), "\(groups)")
                // A tenant's TENANT grouping is ignored and it sees only its own rows.
                #expect(try await actual(groups, key: keyB) == expected(groups.filter { $0 != "TENANT" }, tenant: tenantB.id), "\(groups)")
            }
            let defaults = try await gw.data("{ usageSummary { provider model } }", key: TestGateway.adminKey)["usageSummary"].array
            #expect(defaults.count == 3)
            let ranged = try await gw.data(#"{ usageSummary(from: "2025-03-02T00:00:00Z", to: "2025-03-03T00:00:00Z", groupBy: [DAY]) { day requests cost } }"#, key: TestGateway.adminKey)
            #expect(ranged["usageSummary"] == .array([.object(["day": .string("2025-03-02"), "requests": .number(2), "cost": .string("1.1000000005")])]))
        }
    }
}
