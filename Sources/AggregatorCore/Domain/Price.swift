import Foundation

/// A row of the price table: USD per million tokens in and out — and for prompt tokens read from or written
/// to a prompt cache — for one provider and model (or the provider's default).
public struct ModelPrice: Sendable, Hashable {
    /// Prices per million tokens may have at most this many fractional digits, so that every cost is exact
    /// at `Money.fractionDigits` (10 − 6 = 4).
    public static let maxPriceFractionDigits = 4

    public var id: UUID
    public var provider: String
    public var model: String
    public var inputPerMillion: Money
    public var outputPerMillion: Money
    /// Prompt tokens read from a cache; nil: the input price.
    public var cacheReadPerMillion: Money?
    /// Prompt tokens written to a cache; nil: the input price.
    public var cacheWritePerMillion: Money?
    public var imagePrice: Money?
    public var isDefault: Bool
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), provider: String, model: String, inputPerMillion: Money, outputPerMillion: Money,
        cacheReadPerMillion: Money? = nil, cacheWritePerMillion: Money? = nil, imagePrice: Money? = nil, isDefault: Bool = false,
        updatedAt: Date = Date()
    ) {
        self.id = id
        self.provider = provider
        self.model = model
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cacheReadPerMillion = cacheReadPerMillion
        self.cacheWritePerMillion = cacheWritePerMillion
        self.imagePrice = imagePrice
        self.isDefault = isDefault
        self.updatedAt = updatedAt
    }

    /// Cost of a generation (SPEC §7), exact: (tokensIn − cacheRead − cacheWrite) × input + cacheRead × cache read
    /// + cacheWrite × cache write + tokensOut × output, each price per 10⁶ tokens; a cache price that is not set is
    /// the input price.
    public func cost(_ tokens: TokenCounts) -> Money {
        Money(
            units: Self.cost(tokens: tokens.uncachedIn, perMillion: inputPerMillion)
                + Self.cost(tokens: tokens.cacheRead, perMillion: cacheReadPerMillion ?? inputPerMillion)
                + Self.cost(tokens: tokens.cacheWrite, perMillion: cacheWritePerMillion ?? inputPerMillion)
                + Self.cost(tokens: tokens.tokensOut, perMillion: outputPerMillion))
    }

    /// Cost of a generation without cached prompt tokens.
    public func cost(tokensIn: Int, tokensOut: Int) -> Money {
        cost(TokenCounts(tokensIn: tokensIn, tokensOut: tokensOut))
    }

    static func cost(tokens: Int, perMillion price: Money) -> Int64 {
        // Prices carry at most 4 fractional digits, so price.units is a multiple of 10⁶ and the division is exact.
        let perToken = price.units / 1_000_000
        let remainder = price.units % 1_000_000
        precondition(remainder == 0, "price \(price) has more than \(maxPriceFractionDigits) fractional digits")
        let (product, overflow) = Int64(tokens).multipliedReportingOverflow(by: perToken)
        precondition(!overflow, "cost overflow")
        return product
    }
}

/// The price of one generation, with whether a price was found at all.
public struct PricedCost: Sendable, Hashable {
    public var cost: Money
    public var unpriced: Bool

    public init(cost: Money, unpriced: Bool) {
        self.cost = cost
        self.unpriced = unpriced
    }
}

/// An immutable snapshot of the price table with SPEC §7's lookup order.
public struct PriceTable: Sendable {
    private var exact: [String: [String: ModelPrice]] = [:]
    private var defaults: [String: ModelPrice] = [:]
    public let all: [ModelPrice]

    public init(_ prices: [ModelPrice]) {
        all = prices
        for price in prices {
            if price.isDefault {
                defaults[price.provider] = price
            } else {
                exact[price.provider, default: [:]][price.model] = price
            }
        }
    }

    /// Exact model, else the longest priced prefix of the model name, else the provider's default row.
    public func price(provider: String, model: String) -> ModelPrice? {
        if let byModel = exact[provider] {
            if let hit = byModel[model] { return hit }
            var best: ModelPrice?
            for (name, price) in byModel where model.hasPrefix(name) && name.count > (best?.model.count ?? 0) {
                best = price
            }
            if let best { return best }
        }
        return defaults[provider]
    }

    public func cost(provider: String, model: String, tokens: TokenCounts) -> PricedCost {
        guard let price = price(provider: provider, model: model) else { return PricedCost(cost: .zero, unpriced: true) }
        return PricedCost(cost: price.cost(tokens), unpriced: false)
    }

    public func cost(provider: String, model: String, tokensIn: Int, tokensOut: Int) -> PricedCost {
        cost(provider: provider, model: model, tokens: TokenCounts(tokensIn: tokensIn, tokensOut: tokensOut))
    }
}
