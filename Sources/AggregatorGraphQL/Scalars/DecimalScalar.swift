import AggregatorCore
import GraphQL

/// `Decimal`: an exact decimal as a string (`"0.0000150000"`), never a binary float. Out: `Money`'s ten
/// fractional digits. In: a string (or an integer or decimal literal written in the query, whose text is
/// exact); a JSON number in variables is refused because it may already have been rounded.
enum DecimalScalar {
    static func make() throws -> GraphQLScalarType {
        try GraphQLScalarType(
            name: "Decimal",
            serialize: { value in
                guard let money = value as? Money else { throw GraphQLError(message: "Decimal cannot represent \(type(of: value)).") }
                return .string(money.description)
            },
            parseValue: { value in
                guard case .string(let text) = value else {
                    throw GraphQLError(message: "Decimal must be given as a string, e.g. \"0.15\", so that it stays exact.")
                }
                return .string(try validated(text))
            },
            parseLiteral: { ast in
                switch ast {
                case let literal as StringValue: return .string(try validated(literal.value))
                case let literal as IntValue: return .string(try validated(literal.value))
                case let literal as FloatValue: return .string(try validated(literal.value))
                default: throw GraphQLError(message: "Decimal must be a string such as \"0.15\".")
                }
            })
    }

    /// Checks that the text is a decimal `Money` can hold; the text itself is kept for the resolver.
    static func validated(_ text: String) throws -> String {
        do {
            _ = try Money(parsing: text)
        } catch let error as Money.ParseError {
            throw GraphQLError(message: "Decimal: \(error.description).")
        }
        return text
    }

    /// A resolver's view of a `Decimal` argument, with the caller's precision limit.
    static func money(_ value: Map, field: String, maxFractionDigits: Int = Money.fractionDigits) throws -> Money {
        guard case .string(let text) = value else { throw GraphQLAPIError.badInput("\(field) must be a Decimal string.") }
        do {
            return try Money(parsing: text, maxFractionDigits: maxFractionDigits)
        } catch let error as Money.ParseError {
            throw GraphQLAPIError.badInput("\(field): \(error.description).")
        }
    }
}
