import AggregatorCore
import AggregatorServer
import AggregatorWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A real gateway on a loopback port with a fresh SQLite file, and the `default` tenant's key.
struct TestGateway {
    let app: AggregatorApplication
    let client: any TestClientProtocol
    let key: String
    static let adminKey = "admin-test-key"

    var store: any Store { app.store }

    static func run(
        configure: (inout AppConfig) -> Void = { _ in },
        graphQL: (inout GraphQLSettings) -> Void = { _ in },
        _ body: @Sendable (TestGateway) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agg-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = AppConfig()
        config.port = 0
        config.store = .sqlite(path: folder.appendingPathComponent("aggregator.sqlite").path)
        config.adminAPIKey = adminKey
        config.routes = [ModelRoute(alias: "fast", targets: ["stub/echo"])]
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var settings = GraphQLSettings()
        graphQL(&settings)
        let app = try await AggregatorApplication.build(config: config, logger: logger, graphQL: settings)
        let key = app.createdDefaultKey!
        do {
            try await app.app.test(.live) { client in
                try await body(TestGateway(app: app, client: client, key: key))
            }
        } catch {
            // Close the store on failure too: the test's own failure is what should be reported.
            try? await app.store.close()
            throw error
        }
        try await app.store.close()
    }

    func post(_ path: String, body: String, key: String?, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/json"
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func get(_ path: String, key: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: path, method: .get, headers: headers)
    }

    /// Creates another tenant straight in the store and returns its key.
    func createTenant(_ name: String) async throws -> (Tenant, String) {
        let key = APIKey.generate()
        let tenant = try await store.createTenant(name: name, keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
        return (tenant, key)
    }

    /// Writes pending usage now and returns every usage row with its job.
    func meteredRows() async throws -> [(UsageRecord, Job)] {
        try await app.recorder.flush()
        var out: [(UsageRecord, Job)] = []
        for usage in try await store.usageRecords(tenantID: nil, limit: 1000) {
            if let jobID = usage.jobID, let job = try await store.job(id: jobID) { out.append((usage, job)) }
        }
        return out
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

func chatBody(_ content: String, model: String = "stub/echo", stream: Bool = false, includeUsage: Bool = false, extra: String = "") -> String {
    var writer = JSONWriter()
    writer.string(content)
    let options = includeUsage ? #","stream_options":{"include_usage":true}"# : ""
    return #"{"model":"\#(model)","stream":\#(stream)\#(options),"messages":[{"role":"user","content":\#(writer.string)}]\#(extra)}"#
}
