import Foundation

/// An exact amount of US dollars, held as an integer count of 10⁻¹⁰ USD.
///
/// No binary floating point touches money: prices, costs and sums are integers of this unit, written as
/// decimal strings with ten fractional digits (`"0.0000150000"`).
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let fractionDigits = 10
    public static let scale: Int64 = 10_000_000_000

    /// Count of 10⁻¹⁰ USD.
    public var units: Int64

    public init(units: Int64) { self.units = units }

    public static let zero = Money(units: 0)

    public static func < (a: Money, b: Money) -> Bool { a.units < b.units }

    public static func + (a: Money, b: Money) -> Money { Money(units: a.units + b.units) }
    public static func - (a: Money, b: Money) -> Money { Money(units: a.units - b.units) }

    public static func += (a: inout Money, b: Money) { a.units += b.units }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notADecimal(String)
        case tooPrecise(String, maxFractionDigits: Int)
        case outOfRange(String)

        public var description: String {
            switch self {
            case .notADecimal(let s): "'\(s)' is not a decimal number"
            case .tooPrecise(let s, let max): "'\(s)' has more than \(max) fractional digits"
            case .outOfRange(let s): "'\(s)' is out of range"
            }
        }
    }

    /// Parses a plain decimal string (`"12"`, `"0.15"`, `"-3.5"`); at most `maxFractionDigits` fractional digits.
    public init(parsing text: String, maxFractionDigits: Int = Money.fractionDigits) throws {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.hasPrefix("-") {
            negative = true
            s = s.dropFirst()
        } else if s.hasPrefix("+") {
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
            whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
            parts.count == 1 || !fraction.isEmpty
        else { throw ParseError.notADecimal(text) }
        let significantFraction = fraction.reversed().drop { $0 == "0" }.count
        guard significantFraction <= maxFractionDigits else {
            throw ParseError.tooPrecise(text, maxFractionDigits: maxFractionDigits)
        }
        let paddedFraction = String(fraction.prefix(Money.fractionDigits)).padding(
            toLength: Money.fractionDigits, withPad: "0", startingAt: 0)
        guard let w = Int64(whole.isEmpty ? "0" : String(whole)), let f = Int64(paddedFraction) else {
            throw ParseError.outOfRange(text)
        }
        let (scaled, o1) = w.multipliedReportingOverflow(by: Money.scale)
        let (total, o2) = scaled.addingReportingOverflow(f)
        guard !o1, !o2 else { throw ParseError.outOfRange(text) }
        units = negative ? -total : total
    }

    /// Ten fractional digits, always: `"0.0000150000"`.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(Money.scale)
        let fraction = String(magnitude % UInt64(Money.scale))
        let padded = String(repeating: "0", count: Money.fractionDigits - fraction.count) + fraction
        return (units < 0 ? "-" : "") + "\(whole).\(padded)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}


/// As its exact decimal text ("0.0000150000"), so an event carried between instances keeps every digit.
extension Money: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
