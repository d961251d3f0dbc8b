import AggregatorCore
import AggregatorWire
import Foundation
import Testing

/// SPEC §7: cached prompt tokens priced as the providers bill them.
@Suite struct CachePricingTests {
    static func price(_ input: String, _ output: String, read: String?, write: String?) -> ModelPrice {
        ModelPrice(
            provider: "p", model: "m", inputPerMillion: try! Money(parsing: input), outputPerMillion: try! Money(parsing: output),
            cacheReadPerMillion: read.map { try! Money(parsing: $0) }, cacheWritePerMillion: write.map { try! Money(parsing: $0) })
    }

    @Test(arguments: [
        // prices in, out, cache read, cache write; tokens in, out, cache read, cache write; exact cost
        ("3", "15", "0.30", "3.75", 2_060, 3, 1_800, 248, "0.0015510000"),  // 12 × 3 + 1800 × 0.30 + 248 × 3.75 + 3 × 15
        ("3", "15", "0.30", "3.75", 3_219, 27, 0, 3_210, "0.0124695000"),  // a first turn: the cache written
        ("2.50", "10.00", "1.25", nil, 2_006, 300, 1_920, 0, "0.0056150000"),  // OpenAI's cached_tokens
        ("2.50", "10.00", "1.25", nil, 100, 0, 0, 100, "0.0002500000"),  // a cache write without its price: the input price
        ("15", "75", "1.50", "18.75", 1_000_000, 1_000_000, 999_999, 1, "76.5000172500"),
        ("0.0001", "0", "0.0001", "0.0001", 1, 0, 1, 0, "0.0000000001"),
        ("0.80", "4.00", "0.08", "1.00", 0, 0, 0, 0, "0.0000000000"),
    ] as [(String, String, String?, String?, Int, Int, Int, Int, String)])
    func costFollowsTheFormula(
        input: String, output: String, read: String?, write: String?, tokensIn: Int, tokensOut: Int, cacheRead: Int, cacheWrite: Int,
        expected: String
    ) {
        let tokens = TokenCounts(tokensIn: tokensIn, tokensOut: tokensOut, cacheRead: cacheRead, cacheWrite: cacheWrite)
        #expect(Self.price(input, output, read: read, write: write).cost(tokens).description == expected)
    }

    @Test func aPriceWithoutCachePricesChargesCachedTokensAtTheInputPrice() {
        let plain = Self.price("10", "30", read: nil, write: nil)
        let cached = TokenCounts(tokensIn: 2_006, tokensOut: 300, cacheRead: 1_920, cacheWrite: 40)
        #expect(plain.cost(cached) == plain.cost(tokensIn: 2_006, tokensOut: 300))
        #expect(plain.cost(cached).description == "0.0290600000")
        // Setting one cache price leaves the other at the input price.
        let readOnly = Self.price("10", "30", read: "1", write: nil)
        #expect(readOnly.cost(cached).description == "0.0117800000")  // 46 × 10 + 1920 × 1 + 40 × 10 + 300 × 30
    }

    @Test func cacheCountsAreKeptInsideThePrompt() {
        // An upstream that reports more cached tokens than prompt tokens never makes the uncached part negative.
        let tokens = TokenCounts(Usage(promptTokens: 100, completionTokens: 5, cachedTokens: 80, cacheWriteTokens: 50))
        #expect([tokens.tokensIn, tokens.cacheRead, tokens.cacheWrite, tokens.uncachedIn] as [Int] == [100, 80, 20, 0])
        let over = TokenCounts(tokensIn: 10, tokensOut: 0, cacheRead: 25, cacheWrite: -3)
        #expect([over.cacheRead, over.cacheWrite, over.uncachedIn] as [Int] == [10, 0, 0])
    }

    @Test func sumOfRowsEqualsCostOfSummedTokenKinds() {
        let price = Self.price("3", "15", read: "0.30", write: "3.75")
        var sum = Money.zero
        var total = TokenCounts.zero
        for i in 1...10_000 {
            let tokensIn = 1 + i * 7 % 5_003
            let cacheRead = i % 4 == 0 ? 0 : i * 11 % (tokensIn + 1)
            let row = TokenCounts(tokensIn: tokensIn, tokensOut: i * 13 % 509, cacheRead: cacheRead, cacheWrite: i * 17 % (tokensIn - cacheRead + 1))
            sum += price.cost(row)
            total = TokenCounts(
                tokensIn: total.tokensIn + row.tokensIn, tokensOut: total.tokensOut + row.tokensOut, cacheRead: total.cacheRead + row.cacheRead,
                cacheWrite: total.cacheWrite + row.cacheWrite)
        }
        #expect(total.cacheRead > 0 && total.cacheWrite > 0)
        #expect(sum == price.cost(total))
    }

    @Test func meterKeepsCacheTokensOnTheJobAndUsageRows() throws {
        let table = PriceTable([
            ModelPrice(
                provider: "claude", model: "claude-sonnet-4", inputPerMillion: try Money(parsing: "3"), outputPerMillion: try Money(parsing: "15"),
                cacheReadPerMillion: try Money(parsing: "0.30"), cacheWritePerMillion: try Money(parsing: "3.75"))
        ])
        let now = Date()
        let outcome = Meter.Outcome(
            tenantID: UUID(), provider: "claude", model: "claude-sonnet-4-20250514", messages: [ChatMessage(role: .user, content: .text("hi"))],
            output: "ok", error: nil, usage: Usage(promptTokens: 3_276, completionTokens: 41, cachedTokens: 3_210, cacheWriteTokens: 52),
            startedAt: now, finishedAt: now)
        let generation = Meter(storePrompts: false).generation(outcome, prices: table)
        let usage = try #require(generation.usage)
        #expect([usage.tokensIn, usage.tokensOut, usage.cacheReadTokens, usage.cacheWriteTokens] as [Int] == [3_276, 41, 3_210, 52])
        #expect(usage.cost.description == "0.0018150000" && !usage.unpriced)
        let job = generation.job
        #expect([job.tokensIn, job.tokensOut, job.cacheReadTokens, job.cacheWriteTokens] as [Int] == [3_276, 41, 3_210, 52])
        #expect(job.cost == usage.cost)
    }

    @Test func openAIUsageKeepsCacheCountsAndIsWrittenBackUnchanged() throws {
        let text =
            #"{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"cache_write_tokens":64,"audio_tokens":0}}"#
        let usage = try JSONReader.decode(Usage.self, from: Array(text.utf8))
        #expect(usage.cachedTokens == 1_920 && usage.cacheWriteTokens == 64)
        #expect(TokenCounts(usage) == TokenCounts(tokensIn: 2_006, tokensOut: 300, cacheRead: 1_920, cacheWrite: 64))
        var writer = JSONWriter()
        usage.write(to: &writer)
        #expect(writer.string == text)
        // Cache writes known only for metering (Anthropic's) are not shown to the client.
        var claude = JSONWriter()
        Usage(promptTokens: 2_060, completionTokens: 3, cachedTokens: 1_800, cacheWriteTokens: 248).write(to: &claude)
        #expect(claude.string == #"{"prompt_tokens":2060,"completion_tokens":3,"total_tokens":2063,"prompt_tokens_details":{"cached_tokens":1800}}"#)
    }
}
