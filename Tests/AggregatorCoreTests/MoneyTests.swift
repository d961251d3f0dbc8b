import AggregatorCore
import Testing

@Suite struct MoneyTests {
    @Test(arguments: [
        ("0", "0.0000000000"), ("1", "1.0000000000"), ("0.15", "0.1500000000"), ("2.50", "2.5000000000"),
        ("-3.5", "-3.5000000000"), (".5", "0.5000000000"), ("0.0000000001", "0.0000000001"), ("12345678.9", "12345678.9000000000"),
    ])
    func parsesAndPrintsTenFractionalDigits(input: String, printed: String) throws {
        #expect(try Money(parsing: input).description == printed)
    }

    @Test(arguments: ["", ".", "1.", "abc", "1.2.3", "1e5", "0x10", "- 1"])
    func rejectsWhatIsNotADecimal(input: String) {
        #expect(throws: Money.ParseError.notADecimal(input)) { try Money(parsing: input) }
    }

    @Test func rejectsMorePrecisionThanAllowed() throws {
        #expect(throws: Money.ParseError.tooPrecise("0.00001", maxFractionDigits: 4)) { try Money(parsing: "0.00001", maxFractionDigits: 4) }
        #expect(throws: Money.ParseError.tooPrecise("0.00000000001", maxFractionDigits: 10)) { try Money(parsing: "0.00000000001") }
        // Trailing zeros are not precision.
        #expect(try Money(parsing: "0.15000000", maxFractionDigits: 4).units == 1_500_000_000)
    }

    @Test func rejectsOverflow() {
        #expect(throws: Money.ParseError.outOfRange("999999999999")) { try Money(parsing: "999999999999") }
    }
}

@Suite struct PriceTests {
    static func price(_ provider: String, _ model: String, _ input: String, _ output: String, isDefault: Bool = false) -> ModelPrice {
        ModelPrice(
            provider: provider, model: model, inputPerMillion: try! Money(parsing: input), outputPerMillion: try! Money(parsing: output),
            isDefault: isDefault)
    }

    @Test(arguments: [
        // tokens in, tokens out, price in, price out, exact cost
        (4, 4, "1.00", "2.00", "0.0000120000"),
        (1, 1, "0.15", "0.60", "0.0000007500"),
        (1, 0, "0.0001", "0", "0.0000000001"),
        (999_999, 1, "1234.5678", "0.0003", "1234.5665654325"),
        (2_000_000_000, 2_000_000_000, "15", "75", "180000.0000000000"),
        (0, 0, "3", "15", "0.0000000000"),
        (7, 13, "0.0375", "0.1125", "0.0000017250"),
    ])
    func costIsExact(tokensIn: Int, tokensOut: Int, input: String, output: String, expected: String) {
        let cost = Self.price("p", "m", input, output).cost(tokensIn: tokensIn, tokensOut: tokensOut)
        #expect(cost.description == expected)
    }

    @Test func sumOfRowsEqualsCostOfSummedTokens() {
        let price = Self.price("claude", "claude-3-5-haiku", "0.80", "4.00")
        var sum = Money.zero
        var totalIn = 0
        var totalOut = 0
        for i in 1...10_000 {
            let tokensIn = i * 7 % 1_013
            let tokensOut = i * 13 % 509
            sum += price.cost(tokensIn: tokensIn, tokensOut: tokensOut)
            totalIn += tokensIn
            totalOut += tokensOut
        }
        #expect(sum == price.cost(tokensIn: totalIn, tokensOut: totalOut))
    }

    @Test func lookupOrderIsExactThenLongestPrefixThenDefault() {
        let table = PriceTable([
            Self.price("claude", "claude-3-5-haiku", "0.80", "4.00"),
            Self.price("claude", "claude-3", "9", "9"),
            Self.price("claude", "claude-3-5-haiku-20241022", "1", "5"),
            Self.price("claude", "*", "7", "7", isDefault: true),
            Self.price("openai", "gpt-4o", "2.50", "10.00"),
            Self.price("openai", "gpt-4o-mini", "0.15", "0.60"),
        ])
        #expect(table.price(provider: "claude", model: "claude-3-5-haiku-20241022")?.model == "claude-3-5-haiku-20241022")
        #expect(table.price(provider: "claude", model: "claude-3-5-haiku-latest")?.model == "claude-3-5-haiku")
        #expect(table.price(provider: "claude", model: "claude-3-opus")?.model == "claude-3")
        #expect(table.price(provider: "claude", model: "claude-sonnet-4")?.model == "*")
        #expect(table.price(provider: "openai", model: "gpt-4o-mini-2024-07-18")?.model == "gpt-4o-mini")
        #expect(table.price(provider: "openai", model: "gpt-4o-2024-08-06")?.model == "gpt-4o")
        // No row and no default: cost 0, flagged unpriced.
        #expect(table.price(provider: "openai", model: "o3") == nil)
        #expect(table.cost(provider: "openai", model: "o3", tokensIn: 10, tokensOut: 10) == PricedCost(cost: .zero, unpriced: true))
        #expect(table.cost(provider: "openai", model: "gpt-4o-mini", tokensIn: 1_000_000, tokensOut: 1_000_000).cost.description == "0.7500000000")
        // The same prefix names under another provider do not leak across.
        #expect(table.price(provider: "ollama", model: "gpt-4o") == nil)
    }
}

@Suite struct APIKeyTests {
    @Test(arguments: [
        ("Bearer sk-agg-abc", "sk-agg-abc"), ("bearer sk-agg-abc", "sk-agg-abc"), ("BEARER  sk-agg-abc \t", "sk-agg-abc"),
        ("Bearer \tkey", "key"),
    ])
    func bearerTokens(_ header: String, _ token: String) {
        #expect(APIKey.bearerToken(header) == token)
    }

    @Test(arguments: ["Bearer", "Bearer ", "Bearer   ", "Basic abc", "Bearerx abc", "sk-agg-abc", ""])
    func notBearerTokens(_ header: String) {
        #expect(APIKey.bearerToken(header) == nil)
    }

    @Test func keysHaveTheSchemeAndFortyBase62Characters() {
        let key = APIKey.generate()
        #expect(key.hasPrefix("sk-agg-"))
        let random = key.dropFirst("sk-agg-".count)
        #expect(random.count == 40)
        #expect(random.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(APIKey.generate() != key)
    }

    @Test func hashIsLowercaseHexSHA256() {
        #expect(APIKey.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKey.displayPrefix("sk-agg-ABCDEFGHIJKLMNOP") == "sk-agg-ABCDEF")
    }
}

@Suite struct ModelRouteTests {
    @Test func parsesTheEnvironmentSyntax() throws {
        let routes = try ModelRoute.parseList("gpt-4o-mini=openai/gpt-4o-mini,claude/claude-3-5-haiku-latest; fast=stub/echo ;")
        #expect(routes == [
            ModelRoute(alias: "gpt-4o-mini", targets: ["openai/gpt-4o-mini", "claude/claude-3-5-haiku-latest"]),
            ModelRoute(alias: "fast", targets: ["stub/echo"]),
        ])
    }

    @Test(arguments: ["fast", "fast=", "=stub/echo", "fast=echo", "fast=stub/"])
    func rejectsMalformedRoutes(text: String) {
        #expect(throws: ModelRoute.ParseError.self) { try ModelRoute.parseList(text) }
    }
}
