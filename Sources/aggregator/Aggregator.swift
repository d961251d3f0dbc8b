import AggregatorCore
import AggregatorProviders
import AggregatorServer
import AggregatorStore
import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix

@main
enum Entry {
    static func main() async {
        // Swift concurrency runs on NIO's event loops (as the generic executor, see EventLoopConcurrency):
        // request handling then hops no threads. This must happen on the main thread before other tasks start.
        EventLoopConcurrency.install()
        await Aggregator.main()
    }
}

struct Aggregator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregator",
        abstract: "An OpenAI-compatible LLM gateway with per-tenant metering.",
        subcommands: [Serve.self, Worker.self, Migrate.self, Tenants.self],
        defaultSubcommand: Serve.self)
}

/// Reads the configuration and sets up logging, or exits with a message naming the bad variable.
func bootstrap() -> (AppConfig, Logger) {
    let config: AppConfig
    do {
        config = try AppConfig.load()
    } catch {
        FileHandle.standardError.write(Data("aggregator: configuration error: \(error)\n".utf8))
        Foundation.exit(2)
    }
    let level = config.logLevel
    let json = config.logFormat == .json
    LoggingSystem.bootstrap { label in
        var handler = LineLogHandler(label: label, format: json ? .json : .text)
        handler.logLevel = level
        return handler
    }
    return (config, Logger(label: "aggregator"))
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API (and, in embedded mode, run jobs in process).")

    @Flag(help: "With REDIS_URL: run a job worker in this process too (small deployments).") var withWorker = false

    func run() async throws {
        let (config, logger) = bootstrap()
        let application: AggregatorApplication
        do {
            application = try await AggregatorApplication.build(config: config, role: .serve(withWorker: withWorker), logger: logger) { port in
                logger.notice("listening", metadata: ["address": "http://\(config.host):\(port)"])
            }
        } catch {
            FileHandle.standardError.write(Data("aggregator: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if let key = application.createdDefaultKey {
            // Shown once, on the first start of an empty store, so `make run` is usable at once.
            printFlushed(
                """

                  Created tenant "default". Its API key (shown only now):

                      \(key)

                  Try: curl http://\(config.host):\(config.port)/v1/chat/completions \\
                         -H "Authorization: Bearer \(key)" -H "Content-Type: application/json" \\
                         -d '{"model":"stub/echo","messages":[{"role":"user","content":"Hello"}]}'

                """)
        }
        try await application.run()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run async jobs from the Redis queue (scaled mode: needs REDIS_URL and PostgreSQL); no HTTP listener.")

    func run() async throws {
        let (config, logger) = bootstrap()
        let application: AggregatorApplication
        do {
            application = try await AggregatorApplication.build(config: config, role: .worker, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("aggregator: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        logger.notice("worker running", metadata: ["concurrency": "\(config.jobs.concurrency)"])
        try await application.run()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply migrations (or roll back with `down N`), then exit.")

    @Argument(help: "up (default) or down") var direction: String = "up"
    @Argument(help: "with down: how many migrations to roll back") var steps: Int = 1

    func run() async throws {
        let (config, logger) = bootstrap()
        let store = try await AggregatorApplication.openStore(config, logger: logger)
        defer { Task { try? await store.close() } }
        guard let migrating = store as? any MigratingStore else { throw ValidationError("this store has no migrations") }
        do {
            try await migrate(migrating)
        } catch {
            throw await PostgresStore.explained(error, by: store)
        }
        try await store.close()
    }

    private func migrate(_ migrating: any MigratingStore) async throws {
        switch direction {
        case "up":
            let applied = try await migrating.migrate(to: type(of: migrating).latestVersion)
            let (version, _) = try await migrating.schemaVersion()
            print("applied \(applied) migration(s); schema version \(version)")
        case "down":
            let (version, _) = try await migrating.schemaVersion()
            let target = type(of: migrating).version(steps, below: version)
            let undone = try await migrating.migrate(to: target)
            print("rolled back \(undone) migration(s); schema version \(target)")
        default:
            throw ValidationError("direction must be up or down")
        }
    }
}

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage tenants.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its API key (shown once).")
        @Option(help: "The tenant's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (config, logger) = bootstrap()
            let store = try await AggregatorApplication.openStore(config, logger: logger)
            try await store.migrate()
            let key = APIKey.generate()
            let tenant = try await store.createTenant(name: name, keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
            try await store.close()
            if json {
                print(TenantJSON.withKey(tenant, key: key))
            } else {
                print("created tenant \(tenant.name) (\(tenant.id.lowercasedText))\napi key: \(key)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (config, logger) = bootstrap()
            let store = try await AggregatorApplication.openStore(config, logger: logger)
            try await store.migrate()
            let tenants = try await store.tenants()
            try await store.close()
            if json {
                print("[" + tenants.map(TenantJSON.tenant).joined(separator: ",") + "]")
            } else {
                for t in tenants {
                    print("\(t.id.lowercasedText)  \(t.active ? "active  " : "inactive")  \(t.keyPrefix)…  \(t.name)")
                }
            }
        }
    }
}

/// Prints and flushes at once (stdout may be a pipe or a file that a test is reading).
func printFlushed(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
