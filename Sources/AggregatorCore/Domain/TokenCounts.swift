import AggregatorWire

/// The tokens of one generation as metered (SPEC §7): `tokensIn` counts every prompt token, cached ones included;
/// `cacheRead` and `cacheWrite` are the parts of it that were read from and written to a prompt cache.
public struct TokenCounts: Sendable, Hashable {
    public var tokensIn: Int
    public var tokensOut: Int
    public var cacheRead: Int
    public var cacheWrite: Int

    /// The cache parts are kept inside `tokensIn` (a count an upstream got wrong never makes the uncached part
    /// negative): cache reads first, then cache writes, each at least 0.
    public init(tokensIn: Int, tokensOut: Int, cacheRead: Int = 0, cacheWrite: Int = 0) {
        self.tokensIn = max(0, tokensIn)
        self.tokensOut = max(0, tokensOut)
        self.cacheRead = min(max(0, cacheRead), self.tokensIn)
        self.cacheWrite = min(max(0, cacheWrite), self.tokensIn - self.cacheRead)
    }

    /// An upstream's usage: `prompt_tokens` (every prompt token), its `cached_tokens` and cache writes.
    public init(_ usage: Usage) {
        self.init(
            tokensIn: usage.promptTokens, tokensOut: usage.completionTokens, cacheRead: usage.cachedTokens ?? 0,
            cacheWrite: usage.cacheWriteTokens ?? 0)
    }

    /// Prompt tokens neither read from nor written to a cache: priced at the input price.
    public var uncachedIn: Int { tokensIn - cacheRead - cacheWrite }

    public static let zero = TokenCounts(tokensIn: 0, tokensOut: 0)
}
