import Foundation
import GraphQL

/// `DateTime`: RFC 3339 text. Out: UTC with milliseconds (`2025-01-02T03:04:05.678Z`); in: any RFC 3339
/// timestamp with an offset, fractional seconds optional.
enum DateTimeScalar {
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func parse(_ text: String) throws -> Date {
        guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
            throw GraphQLError(message: "DateTime must be an RFC 3339 timestamp such as \"2025-01-31T00:00:00Z\"; got \"\(text)\".")
        }
        return date
    }

    static func make() throws -> GraphQLScalarType {
        try GraphQLScalarType(
            name: "DateTime",
            serialize: { value in
                guard let date = value as? Date else { throw GraphQLError(message: "DateTime cannot represent \(type(of: value)).") }
                return .string(format(date))
            },
            parseValue: { value in
                guard case .string(let text) = value else { throw GraphQLError(message: "DateTime must be a string.") }
                return .string(format(try parse(text)))
            },
            parseLiteral: { ast in
                guard let literal = ast as? StringValue else { throw GraphQLError(message: "DateTime must be a string.") }
                return .string(format(try parse(literal.value)))
            })
    }
}
