import AggregatorCore
import Foundation
import PostgresNIO

/// Money as a bind: NUMERIC sent as its exact decimal text (never through `Double`).
struct NumericMoney: PostgresNonThrowingEncodable {
    var money: Money

    init(_ money: Money) { self.money = money }

    static var psqlType: PostgresDataType { .numeric }
    static var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(money.description)
    }
}

extension Date {
    /// Timestamps are kept at millisecond precision, like the SQLite store and the job cursors.
    var wholeMillis: Date { Date(millis: millis) }
}

extension PostgresQuery.StringInterpolation {
    /// An empty interpolation, for statements assembled piece by piece (values still go in as binds).
    static var empty: Self { Self(literalCapacity: 256, interpolationCount: 16) }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try self[column].decode(T.self)
        } catch {
            throw PostgresStoreError.unexpectedValue(column: column)
        }
    }

    func int(_ column: String) throws -> Int { try value(column, as: Int.self) }
    func string(_ column: String) throws -> String { try value(column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try value(column, as: String?.self) }
    func uuid(_ column: String) throws -> UUID { try value(column, as: UUID.self) }
    func bool(_ column: String) throws -> Bool { try value(column, as: Bool.self) }
    /// Timestamps come back as whole milliseconds, the same `Date` values the SQLite store returns.
    func date(_ column: String) throws -> Date { Date(millis: try value(column, as: Date.self).millis) }
    func optionalDate(_ column: String) throws -> Date? { try value(column, as: Date?.self).map { Date(millis: $0.millis) } }

    /// A NUMERIC column selected as `::text`, read exactly.
    func money(_ column: String) throws -> Money {
        guard let parsed = try? Money(parsing: try string(column)) else { throw PostgresStoreError.unexpectedValue(column: column) }
        return parsed
    }

    func optionalMoney(_ column: String) throws -> Money? {
        guard let text = try optionalString(column) else { return nil }
        guard let parsed = try? Money(parsing: text) else { throw PostgresStoreError.unexpectedValue(column: column) }
        return parsed
    }
}
