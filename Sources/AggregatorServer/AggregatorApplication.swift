import AggregatorCore
import AggregatorGraphQL
import AggregatorMessaging
import AggregatorProviders
import AggregatorStore
import AggregatorWire
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The assembled gateway: store, directory, providers, metering and the HTTP application.
public struct AggregatorApplication: Sendable {
    public let app: Application<RouterResponder<AppRequestContext>>
    public let store: any Store
    public let recorder: UsageRecorder
    public let directory: Directory
    public let bus: any EventBus
    public let jobs: JobService?
    public let logger: Logger
    /// The key of the `default` tenant when this start created it (embedded mode, empty store).
    public let createdDefaultKey: String?
    /// What this process does.
    public let role: Role
    /// The services of a worker-only process (a serving one runs them inside `app`).
    let services: [any Service]

    /// What one process does (SPEC §2).
    public enum Role: Sendable, Hashable {
        /// The HTTP API. Without `REDIS_URL` it always runs jobs too; with it, only when `withWorker` is set.
        case serve(withWorker: Bool)
        /// Runs jobs only (needs `REDIS_URL`); no HTTP listener.
        case worker
    }

    /// Runs until SIGTERM/SIGINT, drains streams in flight (up to `grace`), writes pending usage, closes the store.
    public func run(grace: Duration = .seconds(30)) async throws {
        let services: [any Service] = role == .worker ? services : [app]
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

public enum AggregatorStartError: Error, CustomStringConvertible {
    case unsupported(String)

    public var description: String {
        switch self {
        case .unsupported(let text): text
        }
    }
}

extension AggregatorApplication {
    /// Opens the store for the configured location.
    public static func openStore(_ config: AppConfig, logger: Logger) async throws -> any Store {
        switch config.store {
        case .sqlite(let path):
            return try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(let url):
            return try PostgresStore.open(url: url, logger: logger)
        }
    }

    /// Builds everything. In embedded mode migrations are applied here and an empty store gets a
    /// `default` tenant, whose key is returned (and printed once by the caller).
    public static func build(
        config: AppConfig, role: Role = .serve(withWorker: false), logger: Logger, graphQL: GraphQLSettings = GraphQLSettings(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws
        -> AggregatorApplication
    {
        let redisConfiguration = try scaledModeRedis(config, role: role)
        let store = try await openStore(config, logger: logger)
        var defaultKey: String?
        do {
            if case .postgres = config.store, let migrating = store as? any MigratingStore {
                // Scaled mode: the operator migrates (`aggregator migrate`); never serve on an older schema.
                try await migrating.checkSchema()
            } else {
                try await store.migrate()
                if try await store.tenants().isEmpty {
                    let key = APIKey.generate()
                    _ = try await store.createTenant(name: "default", keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
                    defaultKey = key
                }
            }
        } catch {
            let explained = await PostgresStore.explained(error, by: store)
            try? await store.close()
            throw explained
        }

        let directory = Directory(store: store, configuredRoutes: config.routes, logger: logger)
        try await directory.refresh()
        let recorder = UsageRecorder(store: store, logger: logger)

        var services: [any Service] = [UsageRecorderService(recorder: recorder), DirectoryService(directory: directory)]
        var providers: [any Provider] = []
        if config.openAI != nil || config.anthropic != nil || config.ollamaURL != nil {
            let clients = UpstreamClients(timeout: config.upstreamTimeout)
            services.append(HTTPClientService(clients: clients))
            providers += remoteProviders(config: config, http: UpstreamHTTP(clients: clients, timeout: config.upstreamTimeout))
        }
        if config.enableStub { providers.append(StubProvider()) }
        let catalog = ModelCatalog(providers: providers, directory: directory)
        let metrics = config.metricsEnabled ? GatewayMetrics(directory: directory) : nil
        // Queue, events and job tokens: in process, or through Redis in scaled mode.
        let owner = JobService.processName()
        let bus: any EventBus
        let queue: any JobQueue
        let tokens: any JobTokenLog
        var redisCheck: (@Sendable () async -> Bool)?
        var redis: RedisClient?
        if let redisConfiguration {
            let client = RedisClient(configuration: redisConfiguration, logger: logger)
            redis = client
            do {
                try await checkRedis(client, logger: logger)
            } catch {
                client.close()
                try? await store.close()
                throw AppConfig.Error(variable: "REDIS_URL", problem: "\(error)")
            }
            let redisBus = RedisEventBus(client: client, logger: logger)
            // Another instance changed tenants, prices or routes: read them again (the poll is the backstop).
            redisBus.onReconnect { try? await directory.refresh() }
            services.insert(contentsOf: [client, redisBus] as [any Service], at: 0)
            bus = redisBus
            queue = RedisJobQueue(client: client, consumer: owner, logger: logger)
            tokens = RedisJobTokenLog(client: client, logger: logger)
            redisCheck = { (try? await client.send("PING", timeout: .seconds(2))) != nil }
            services.append(ConfigListener(bus: bus, directory: directory, logger: logger))
            directory.onChange { bus.publish(.configChanged) }
        } else {
            bus = InProcessEventBus()
            queue = InProcessJobQueue()
            tokens = InProcessJobTokenLog()
        }
        // Limits (SPEC §16): counters in this process (budgets rebuilt from the store's usage), or in Redis.
        var limiter: any Limiter = InProcessLimiter()
        if let redis, let jobStore = store as? any JobStore {
            let shared = RedisLimiter(
                client: redis, reservationLifetime: config.limitReservationLifetime, logger: logger,
                spent: { tenant, dayStart, monthStart in
                    async let day = jobStore.usageSummary(tenantID: tenant, from: dayStart, to: nil, groupBy: [])
                    async let month = jobStore.usageSummary(tenantID: tenant, from: monthStart, to: nil, groupBy: [])
                    return try await (day.reduce(.zero) { $0 + $1.cost }, month.reduce(.zero) { $0 + $1.cost })
                })
            services.append(shared)
            limiter = shared
        } else if let local = limiter as? InProcessLimiter, let jobStore = store as? any JobStore {
            try await seedLimits(local, from: jobStore)
        }
        let gateway = ChatGateway(
            catalog: catalog, directory: directory, recorder: recorder, meter: Meter(storePrompts: config.storePrompts), metrics: metrics,
            limiter: limiter)

        // Every stored generation tells subscribers about its job and its usage.
        recorder.onRecorded { generations in
            for generation in generations {
                bus.publish(.jobUpdated(generation.job))
                if let usage = generation.usage { bus.publish(.usageRecorded(usage)) }
            }
            metrics?.usageRowsWritten(generations.count { $0.usage != nil })
        }
        // Async jobs: run in this process in embedded mode, by a worker or `serve --with-worker` in scaled mode.
        var jobs: JobService?
        if let jobStore = store as? any JobStore {
            let service = JobService(
                store: jobStore, queue: queue, bus: bus, tokens: tokens, gateway: gateway, settings: config.jobs, owner: owner)
            let runsJobs = redisConfiguration == nil || role != .serve(withWorker: false)
            if runsJobs {
                let ownsStore = if case .sqlite = config.store { true } else { false }
                services.append(JobWorker(jobs: service, bus: bus, ownsStore: ownsStore, logger: logger))
            }
            jobs = service
        }

        let authenticator = Authenticator(adminKey: config.adminAPIKey, directory: directory)
        let router = buildRouter(
            gateway: gateway, catalog: catalog, store: store, recorder: recorder, bus: bus, tokens: tokens,
            redisReachable: redisCheck, authenticator: authenticator, config: config)
        if let metrics {
            router.get("/metrics") { _, _ in
                let pending = try? await (store as? any JobStore)?.jobQueueStats().pending
                let text = metrics.exposition(pendingUsageRows: recorder.pendingCount, queueDepth: pending)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
            }
        }
        // GraphQL: /graphql over HTTP and WebSocket, /graphql/schema, /playground.
        var graphQLRoutes: GraphQLRoutes?
        if let jobStore = store as? any JobStore, let jobs {
            let graphQLServices = GraphQLServices(
                store: store, jobStore: jobStore, directory: directory, catalog: catalog, bus: bus,
                jobs: JobActions(
                    create: { tenantID, type, model, input in
                        try await jobs.create(tenantID: tenantID, type: type, model: model, input: input, logger: logger)
                    },
                    cancel: { id, tenantID in try await jobs.cancel(id: id, tenantID: tenantID) }),
                limiter: limiter)
            graphQLRoutes = try GraphQLRoutes(
                services: graphQLServices, authenticator: authenticator, limits: config.graphQLLimits, settings: graphQL, logger: logger)
            try graphQLRoutes?.register(on: router, playground: config.enablePlayground)
        }
        let app = Application(
            router: router,
            server: graphQLRoutes?.server ?? .http1(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        return AggregatorApplication(
            app: app, store: store, recorder: recorder, directory: directory, bus: bus, jobs: jobs, logger: logger,
            createdDefaultKey: defaultKey, role: role, services: services)
    }

    static func buildRouter(
        gateway: ChatGateway, catalog: ModelCatalog, store: any Store, recorder: UsageRecorder, bus: any EventBus, tokens: any JobTokenLog,
        redisReachable: (@Sendable () async -> Bool)?, authenticator: Authenticator, config: AppConfig
    ) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        router.middlewares.add(MetricsMiddleware(metrics: gateway.metrics))
        router.middlewares.add(ErrorMiddleware())
        let health = HealthRoutes(store: store, recorder: recorder, catalog: catalog, redisReachable: redisReachable)
        router.get("/healthz") { request, context in health.alive(request, context: context) }
        router.get("/readyz") { request, context in await health.ready(request, context: context) }
        router.get("/health") { request, context in await health.details(request, context: context) }
        // Claude Code probes its gateway with `HEAD /` before it starts.
        router.head("/") { _, _ in Response(status: .ok) }

        let v1 = router.group("/v1").add(middleware: AuthMiddleware(authenticator: authenticator))
        let chat = ChatCompletionsRoute(gateway: gateway, maxRequestBytes: config.maxRequestBytes)
        v1.post("/chat/completions") { request, context in try await chat.handle(request, context: context) }
        let messages = MessagesRoute(
            gateway: MessagesGateway(chat: gateway), maxRequestBytes: config.maxRequestBytes, pingInterval: config.messagesPingInterval)
        v1.post("/messages") { request, context in try await messages.handle(request, context: context) }
        v1.post("/messages/count_tokens") { request, context in try await messages.countTokens(request, context: context) }
        let models = ModelsRoute(catalog: catalog)
        v1.get("/models") { request, context in try await models.list(request, context: context) }
        v1.get("/models/**") { request, context in try await models.one(request, context: context) }

        let stream = router.group("/stream").add(middleware: AuthMiddleware(authenticator: authenticator))
        let streams = StreamRoutes(gateway: gateway, store: store, bus: bus, tokens: tokens, maxRequestBytes: config.maxRequestBytes)
        stream.post("") { request, context in try await streams.generate(request, context: context) }
        stream.get("/jobs/:id") { request, context in try await streams.follow(request, context: context) }

        DashboardRoutes(assets: .load(folder: config.dashboardDirectory)).register(on: router)
        return router
    }

    /// The Redis configuration of scaled mode, or nil in embedded mode; refuses what SPEC §2 forbids.
    static func scaledModeRedis(_ config: AppConfig, role: Role) throws -> RedisConfiguration? {
        guard let url = config.redisURL else {
            if role == .worker {
                throw AppConfig.Error(
                    variable: "REDIS_URL", problem: "`aggregator worker` needs REDIS_URL (and PostgreSQL): without it `serve` runs the jobs itself")
            }
            return nil
        }
        guard case .postgres = config.store else {
            throw AppConfig.Error(
                variable: "REDIS_URL",
                problem: "needs PostgreSQL (DATABASE_URL=postgres://…): the embedded SQLite store belongs to one process; unset REDIS_URL to run embedded")
        }
        do {
            return try RedisConfiguration(url: url)
        } catch {
            throw AppConfig.Error(variable: "REDIS_URL", problem: "\(error)")
        }
    }

    /// Each tenant's spend so far this UTC day and month, from the usage rows, so that a restart never resets a budget.
    static func seedLimits(_ limiter: InProcessLimiter, from store: any JobStore) async throws {
        let now = Date()
        let monthStart = LimitWindows.monthStart(now)
        let today = Date(timeIntervalSince1970: Double(LimitWindows(now).day) * 86_400)
        let rows = try await store.usageSummary(tenantID: nil, from: monthStart, to: nil, groupBy: [.tenant, .day])
        var day: [UUID: Money] = [:]
        var month: [UUID: Money] = [:]
        let todayText = String(ISO8601DateFormatter().string(from: today).prefix(10))
        for row in rows {
            guard let tenant = row.tenantID else { continue }
            month[tenant, default: .zero] = month[tenant, default: .zero] + row.cost
            if row.day == todayText { day[tenant, default: .zero] = day[tenant, default: .zero] + row.cost }
        }
        limiter.seed(spentToday: day, spentThisMonth: month)
    }

    /// Scaled mode's start: Redis answers, is 6.2 or newer (streams with the commands used here), and is told not
    /// to evict keys (an evicted queue or event stream delays work; the store makes up for it, but slowly).
    static func checkRedis(_ redis: RedisClient, logger: Logger) async throws {
        let info = try await redis.send("INFO", "server").string ?? ""
        if let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("redis_version:") }) {
            let version = line.dropFirst("redis_version:".count).split(separator: ".").compactMap { Int($0) }
            if version.lexicographicallyPrecedes([6, 2]) {
                throw RedisError.protocolError("Redis \(version.map(String.init).joined(separator: ".")) is too old: scaled mode needs 6.2 or newer")
            }
        }
        // Managed services may refuse CONFIG: then there is nothing to check.
        if let policy = try? await redis.send("CONFIG", "GET", "maxmemory-policy").array?.last?.string, policy != "noeviction" {
            logger.warning(
                "Redis may evict keys (maxmemory-policy \(policy)); set it to noeviction: an evicted queue or event stream delays jobs and live updates")
        }
    }

    /// The remote providers whose configuration is present, in a stable order.
    static func remoteProviders(config: AppConfig, http: UpstreamHTTP) -> [any Provider] {
        var providers: [any Provider] = []
        if let openAI = config.openAI {
            providers.append(OpenAIProvider(http: http, baseURL: openAI.baseURL, apiKey: openAI.apiKey))
        }
        if let anthropic = config.anthropic {
            providers.append(ClaudeProvider(http: http, baseURL: anthropic.baseURL, apiKey: anthropic.apiKey))
        }
        if let ollama = config.ollamaURL {
            providers.append(OllamaProvider(http: http, baseURL: ollama))
        }
        return providers
    }
}
