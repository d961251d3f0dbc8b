import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore {
    static let priceColumns = """
        id, provider, model, input_price_per_million::text, output_price_per_million::text, cache_read_price_per_million::text, \
        cache_write_price_per_million::text, image_price::text, is_default, updated_at
        """

    static func price(_ row: PostgresRandomAccessRow) throws -> ModelPrice {
        ModelPrice(
            id: try row.uuid("id"), provider: try row.string("provider"), model: try row.string("model"),
            inputPerMillion: try row.money("input_price_per_million"), outputPerMillion: try row.money("output_price_per_million"),
            cacheReadPerMillion: try row.optionalMoney("cache_read_price_per_million"),
            cacheWritePerMillion: try row.optionalMoney("cache_write_price_per_million"), imagePrice: try row.optionalMoney("image_price"), isDefault: try row.bool("is_default"), updatedAt: try row.date("updated_at"))
    }

    public func prices() async throws -> [ModelPrice] {
        try await query("SELECT \(unescaped: Self.priceColumns) FROM provider_pricing ORDER BY provider, model").map(Self.price)
    }

    public func upsertPrice(_ price: ModelPrice) async throws -> ModelPrice {
        let logger = self.logger
        return try await transaction { connection in
            if price.isDefault {
                // One default row per provider (a partial unique index holds the line).
                try await connection.query(
                    "UPDATE provider_pricing SET is_default = FALSE WHERE provider = \(price.provider) AND model <> \(price.model) AND is_default",
                    logger: logger)
            }
            let rows = try await connection.query(
                """
                INSERT INTO provider_pricing
                    (id, provider, model, input_price_per_million, output_price_per_million, cache_read_price_per_million,
                    cache_write_price_per_million, image_price, is_default, updated_at)
                VALUES (\(price.id), \(price.provider), \(price.model), \(NumericMoney(price.inputPerMillion)),
                    \(NumericMoney(price.outputPerMillion)), \(price.cacheReadPerMillion.map(NumericMoney.init)),
                    \(price.cacheWritePerMillion.map(NumericMoney.init)), \(price.imagePrice.map(NumericMoney.init)), \(price.isDefault),
                    date_trunc('milliseconds', now()))
                ON CONFLICT (provider, model) DO UPDATE SET
                    input_price_per_million = excluded.input_price_per_million,
                    output_price_per_million = excluded.output_price_per_million,
                    cache_read_price_per_million = excluded.cache_read_price_per_million,
                    cache_write_price_per_million = excluded.cache_write_price_per_million,
                    image_price = excluded.image_price,
                    is_default = excluded.is_default,
                    updated_at = excluded.updated_at
                RETURNING \(unescaped: Self.priceColumns)
                """, logger: logger
            ).collect()
            guard let row = rows.first else { throw PostgresStoreError.unexpectedValue(column: "provider_pricing") }
            return try Self.price(row.makeRandomAccess())
        }
    }

    public func deletePrice(provider: String, model: String) async throws -> Bool {
        try await !query("DELETE FROM provider_pricing WHERE provider = \(provider) AND model = \(model) RETURNING id").isEmpty
    }

    public func routes() async throws -> [ModelRoute] {
        try await query("SELECT alias, targets FROM model_routes ORDER BY alias").map { row in
            ModelRoute(alias: try row.string("alias"), targets: try row.value("targets", as: [String].self))
        }
    }

    public func setRoute(_ route: ModelRoute) async throws -> ModelRoute {
        _ = try await query(
            """
            INSERT INTO model_routes (alias, targets, updated_at) VALUES (\(route.alias), \(route.targets), now())
            ON CONFLICT (alias) DO UPDATE SET targets = excluded.targets, updated_at = excluded.updated_at
            """)
        return route
    }

    public func deleteRoute(alias: String) async throws -> Bool {
        try await !query("DELETE FROM model_routes WHERE alias = \(alias) RETURNING alias").isEmpty
    }
}
