import AggregatorCore
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static let priceColumns = """
        id, provider, model, input_units_per_million, output_units_per_million, cache_read_units_per_million, \
        cache_write_units_per_million, image_price_units, is_default, updated_at
        """

    static func price(_ row: SQLiteRow) throws -> ModelPrice {
        ModelPrice(
            id: try row.uuid("id"), provider: try row.string("provider"), model: try row.string("model"),
            inputPerMillion: try row.money("input_units_per_million"), outputPerMillion: try row.money("output_units_per_million"),
            cacheReadPerMillion: row.optionalMoney("cache_read_units_per_million"),
            cacheWritePerMillion: row.optionalMoney("cache_write_units_per_million"), imagePrice: row.optionalMoney("image_price_units"),
            isDefault: try row.bool("is_default"), updatedAt: try row.date("updated_at"))
    }

    public func prices() async throws -> [ModelPrice] {
        try await rows("SELECT \(Self.priceColumns) FROM provider_pricing ORDER BY provider, model").map(Self.price)
    }

    public func upsertPrice(_ price: ModelPrice) async throws -> ModelPrice {
        try await transaction { db in
            if price.isDefault {
                // One default row per provider.
                _ = try await db.unlockedRows(
                    "UPDATE provider_pricing SET is_default = 0 WHERE provider = ? AND model <> ?", [.text(price.provider), .text(price.model)])
            }
            _ = try await db.unlockedRows(
                """
                INSERT INTO provider_pricing (\(Self.priceColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (provider, model) DO UPDATE SET
                    input_units_per_million = excluded.input_units_per_million,
                    output_units_per_million = excluded.output_units_per_million,
                    cache_read_units_per_million = excluded.cache_read_units_per_million,
                    cache_write_units_per_million = excluded.cache_write_units_per_million,
                    image_price_units = excluded.image_price_units,
                    is_default = excluded.is_default,
                    updated_at = excluded.updated_at
                """,
                [
                    .text(price.id), .text(price.provider), .text(price.model), .money(price.inputPerMillion),
                    .money(price.outputPerMillion), .optionalMoney(price.cacheReadPerMillion), .optionalMoney(price.cacheWritePerMillion),
                    .optionalMoney(price.imagePrice),
                    .integer(price.isDefault ? 1 : 0), .date(Date()),
                ])
            let rows = try await db.unlockedRows(
                "SELECT \(Self.priceColumns) FROM provider_pricing WHERE provider = ? AND model = ?", [.text(price.provider), .text(price.model)])
            guard let row = rows.first else { throw RowError(column: "provider_pricing") }
            return try Self.price(row)
        }
    }

    public func deletePrice(provider: String, model: String) async throws -> Bool {
        try await transaction { db in
            let existed = try await db.unlockedRows(
                "SELECT 1 AS hit FROM provider_pricing WHERE provider = ? AND model = ?", [.text(provider), .text(model)])
            _ = try await db.unlockedRows("DELETE FROM provider_pricing WHERE provider = ? AND model = ?", [.text(provider), .text(model)])
            return !existed.isEmpty
        }
    }

    public func routes() async throws -> [ModelRoute] {
        try await rows("SELECT alias, targets FROM model_routes ORDER BY alias").map { row in
            ModelRoute(alias: try row.string("alias"), targets: try row.string("targets").split(separator: ",").map(String.init))
        }
    }

    public func setRoute(_ route: ModelRoute) async throws -> ModelRoute {
        _ = try await rows(
            """
            INSERT INTO model_routes (alias, targets, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (alias) DO UPDATE SET targets = excluded.targets, updated_at = excluded.updated_at
            """,
            [.text(route.alias), .text(route.targets.joined(separator: ",")), .date(Date())])
        return route
    }

    public func deleteRoute(alias: String) async throws -> Bool {
        try await transaction { db in
            let existed = try await db.unlockedRows("SELECT 1 AS hit FROM model_routes WHERE alias = ?", [.text(alias)])
            _ = try await db.unlockedRows("DELETE FROM model_routes WHERE alias = ?", [.text(alias)])
            return !existed.isEmpty
        }
    }
}
