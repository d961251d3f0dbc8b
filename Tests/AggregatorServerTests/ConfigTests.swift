import AggregatorCore
import AggregatorServer
import Testing

/// SPEC §3: defaults, and a malformed value fails at start naming its variable.
@Suite struct ConfigTests {
    @Test func defaultsAreTheSpecs() throws {
        let config = try AppConfig(variables: [:])
        #expect(config.host == "127.0.0.1" && config.port == 8080)
        #expect(config.store == .sqlite(path: "./data/aggregator.sqlite"))
        #expect(config.enableStub && config.enablePlayground && config.storePrompts)
        #expect(config.maxRequestBytes == 10_485_760 && config.upstreamTimeout == .seconds(120))
        #expect(config.openAI == nil && config.anthropic == nil && config.ollamaURL == nil)
        #expect(config.limitReservationLifetime == .seconds(60))
        #expect(try AppConfig(variables: ["LIMIT_RESERVATION_SECONDS": "5"]).limitReservationLifetime == .seconds(5))
    }

    @Test func aRealProviderTurnsTheStubOffUnlessAskedFor() throws {
        let config = try AppConfig(variables: ["OPENAI_API_KEY": "sk-x"])
        #expect(config.openAI == .init(apiKey: "sk-x", baseURL: "https://api.openai.com/v1"))
        #expect(!config.enableStub)
        #expect(try AppConfig(variables: ["OPENAI_API_KEY": "sk-x", "ENABLE_STUB_PROVIDER": "true"]).enableStub)
        #expect(try AppConfig(variables: ["ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"]).anthropic?.baseURL == "http://127.0.0.1:9")
    }

    @Test(arguments: [
        ("API_PORT", "eighty", "API_PORT: expected a whole number in 0…65535, got 'eighty'"),
        ("API_PORT", "70000", "API_PORT: expected a whole number in 0…65535, got '70000'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected sqlite://PATH or postgres://user:pass@host:port/db"),
        ("ENABLE_PLAYGROUND", "maybe", "ENABLE_PLAYGROUND: expected true or false, got 'maybe'"),
        ("OLLAMA_URL", "localhost:11434", "OLLAMA_URL: expected a http or https URL, got 'localhost:11434'"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: expected text or json, got 'xml'"),
        ("MODEL_ROUTES", "fast", "MODEL_ROUTES: expected alias=provider/model[,provider/model…] but found 'fast'"),
        ("MAX_REQUEST_BYTES", "0", "MAX_REQUEST_BYTES: expected a whole number in 1…1073741824, got '0'"),
        ("LIMIT_RESERVATION_SECONDS", "1", "LIMIT_RESERVATION_SECONDS: expected a whole number in 3…86400, got '1'"),
    ])
    func malformedValuesNameTheirVariable(name: String, value: String, message: String) {
        #expect(throws: AppConfig.Error.self) { try AppConfig(variables: [name: value]) }
        do {
            _ = try AppConfig(variables: [name: value])
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func dotEnvIsReadAndTheRealEnvironmentWins() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID().uuidString)").path
        try "# comment\nexport API_PORT=9001\nMODEL_ROUTES='fast=stub/echo'\nAPI_HOST=0.0.0.0\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try AppConfig.load(environment: ["API_HOST": "127.0.0.2"], dotEnvPath: path)
        #expect(config.port == 9001 && config.host == "127.0.0.2")
        #expect(config.routes == [ModelRoute(alias: "fast", targets: ["stub/echo"])])
    }
}

import Foundation
