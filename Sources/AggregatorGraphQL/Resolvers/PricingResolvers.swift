import AggregatorCore
import Foundation
import GraphQL

/// `pricing`, and the admin's `upsertModelPrice` and `deleteModelPrice`. Prices take effect on this
/// instance at once.
enum PricingResolvers {
    static func pricing(_ c: GraphQLContext) async throws -> [ModelPrice] {
        try await c.services.store.prices().sorted { ($0.provider, $0.model) < ($1.provider, $1.model) }
    }

    static func upsert(_ args: Map, _ c: GraphQLContext) async throws -> ModelPrice {
        try c.requireAdmin("upsertModelPrice")
        let input = args["input"]
        let provider = (input["provider"].optionalString ?? "").trimmingCharacters(in: .whitespaces)
        let model = (input["model"].optionalString ?? "").trimmingCharacters(in: .whitespaces)
        guard !provider.isEmpty else { throw GraphQLAPIError.badInput("input.provider must not be empty.") }
        let isDefault = input["isDefault"].bool ?? false
        guard isDefault || !model.isEmpty else { throw GraphQLAPIError.badInput("input.model must not be empty unless isDefault is true.") }
        let digits = ModelPrice.maxPriceFractionDigits
        let inputPrice = try price(input["inputPricePerMillion"], "input.inputPricePerMillion", digits)
        let outputPrice = try price(input["outputPricePerMillion"], "input.outputPricePerMillion", digits)
        // Not given (or null): cached prompt tokens cost the input price.
        let cacheReadPrice = try input["cacheReadPricePerMillion"].optionalString.map {
            try price(.string($0), "input.cacheReadPricePerMillion", digits)
        }
        let cacheWritePrice = try input["cacheWritePricePerMillion"].optionalString.map {
            try price(.string($0), "input.cacheWritePricePerMillion", digits)
        }
        let imagePrice = try input["imagePrice"].optionalString.map { try price(.string($0), "input.imagePrice", Money.fractionDigits) }
        let stored = try await c.services.store.upsertPrice(
            ModelPrice(
                provider: provider, model: model, inputPerMillion: inputPrice, outputPerMillion: outputPrice,
                cacheReadPerMillion: cacheReadPrice, cacheWritePerMillion: cacheWritePrice, imagePrice: imagePrice, isDefault: isDefault,
                updatedAt: Date()))
        try await c.services.directory.reloadPrices()
        return stored
    }

    static func delete(_ args: Map, _ c: GraphQLContext) async throws -> Bool {
        try c.requireAdmin("deleteModelPrice")
        let deleted = try await c.services.store.deletePrice(provider: args["provider"].optionalString ?? "", model: args["model"].optionalString ?? "")
        try await c.services.directory.reloadPrices()
        return deleted
    }

    private static func price(_ value: Map, _ field: String, _ digits: Int) throws -> Money {
        let money = try DecimalScalar.money(value, field: field, maxFractionDigits: digits)
        guard money >= .zero else { throw GraphQLAPIError.badInput("\(field) must not be negative.") }
        return money
    }
}
