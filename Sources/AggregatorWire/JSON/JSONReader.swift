/// A type read straight from JSON bytes by `JSONReader`, without Codable.
public protocol JSONReadable {
    init(reading reader: inout JSONReader) throws
}

/// A pull reader of JSON text, for the hot paths: upstream answers and stream chunks are read with it, field by
/// field into our types. Foundation's `JSONDecoder` goes through Codable's keyed containers and showed up at
/// about a tenth of the gateway's CPU in the benchmark; this does the same work several times faster.
///
/// Strict JSON (RFC 8259): no comments, no trailing commas, no NaN; nesting is limited to `maxDepth`.
public struct JSONReader {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var description: String
        /// Where in the text it went wrong; 0 for a problem with a whole value (a required member missing).
        public var offset: Int

        public init(_ description: String, offset: Int = 0) {
            self.description = description
            self.offset = offset
        }
    }

    public static let maxDepth = 256

    private let bytes: [UInt8]
    private let depthLimit: Int
    private var index = 0
    private var depth = 0

    public init(_ bytes: [UInt8], maxDepth: Int = JSONReader.maxDepth) {
        self.bytes = bytes
        self.depthLimit = maxDepth
    }

    /// Checks that `bytes` are one JSON value, strictly as RFC 8259 writes it, nested at most `maxDepth` levels.
    /// Linear in the text: it is the gate in front of Foundation's `JSONDecoder`, which accepts what is not JSON
    /// (a trailing comma, a malformed number in a member that a later one of the same name replaces).
    public static func validate(_ bytes: [UInt8], maxDepth: Int = JSONReader.maxDepth) throws {
        var reader = JSONReader(bytes, maxDepth: maxDepth)
        try reader.skipValue()
        try reader.finish()
    }

    /// Reads `bytes` as one `T`; only whitespace may follow it.
    public static func decode<T: JSONReadable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        var reader = JSONReader(bytes)
        let value = try T(reading: &reader)
        try reader.finish()
        return value
    }

    /// The offset of the next value (whitespace before it skipped): with the offset after reading it, the value's
    /// exact bytes in the text (a pass-through rewrites one member and keeps every other byte).
    public var position: Int {
        mutating get {
            skipWhitespace()
            return index
        }
    }

    /// Checks that only whitespace is left.
    public mutating func finish() throws {
        skipWhitespace()
        if index < bytes.count { throw error("unexpected text after the JSON value") }
    }

    // MARK: Typed reads

    /// True, and the `null` consumed, when the next value is `null`.
    public mutating func readNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try expectLiteral("null")
        return true
    }

    public mutating func readString() throws -> String {
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        return try scanString()
    }

    public mutating func readOptionalString() throws -> String? {
        try readNull() ? nil : readString()
    }

    public mutating func readBool() throws -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return false
        default: throw error("expected true or false")
        }
    }

    /// An integer; a number with a fraction or exponent is accepted when its value is a whole number in range.
    public mutating func readInt() throws -> Int {
        skipWhitespace()
        let start = index
        guard case .int(let value) = try scanNumber() else {
            index = start
            throw error("expected an integer")
        }
        return Int(value)
    }

    public mutating func readOptionalInt() throws -> Int? {
        try readNull() ? nil : readInt()
    }

    /// `null` as nil, else a `T`.
    public mutating func readOptional<T: JSONReadable>(_ type: T.Type) throws -> T? {
        try readNull() ? nil : T(reading: &self)
    }

    /// Whether the next value is an object.
    public var nextIsObject: Bool {
        mutating get { (try? peek()) == UInt8(ascii: "{") }
    }

    /// An array of `T`.
    public mutating func readArray<T: JSONReadable>(of type: T.Type) throws -> [T] {
        var values: [T] = []
        try readArray { reader in values.append(try T(reading: &reader)) }
        return values
    }

    /// Calls `element` once per element of an array; it must read (or skip) exactly one value.
    public mutating func readArray(_ element: (inout JSONReader) throws -> Void) throws {
        guard try peek() == UInt8(ascii: "[") else { throw error("expected an array") }
        try enter()
        index += 1
        if try peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            try element(&self)
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// Calls `member` once per member of an object with its key; it must read (or skip) exactly the value.
    public mutating func readObject(_ member: (inout JSONReader, String) throws -> Void) throws {
        guard try peek() == UInt8(ascii: "{") else { throw error("expected an object") }
        try enter()
        index += 1
        if try peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            let key = try readString()
            guard try peek() == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
            index += 1
            try member(&self, key)
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// Any value, object keys kept in the order they came.
    public mutating func readValue() throws -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"):
            var object = JSONObject()
            try readObject { reader, key in object[key] = try reader.readValue() }
            return .object(object)
        case UInt8(ascii: "["):
            var values: [JSONValue] = []
            try readArray { reader in values.append(try reader.readValue()) }
            return .array(values)
        case UInt8(ascii: "\""): return .string(try scanString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try readBool())
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default: return try scanNumber()
        }
    }

    /// Reads past one value of any kind, checking that it is well-formed.
    public mutating func skipValue() throws {
        switch try peek() {
        case UInt8(ascii: "{"): try readObject { reader, _ in try reader.skipValue() }
        case UInt8(ascii: "["): try readArray { reader in try reader.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: _ = try scanNumber()
        }
    }

    // MARK: Scanning

    private func error(_ message: String) -> Error {
        Error("\(message) at byte \(index)", offset: index)
    }

    private mutating func enter() throws {
        depth += 1
        if depth > depthLimit { throw error("nesting deeper than \(depthLimit) levels") }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// The next significant byte, not consumed.
    private mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of JSON") }
        return bytes[index]
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of JSON") }
        for i in 0..<count where bytes[index + i] != literal.utf8Start[i] {
            throw error("expected \(literal)")
        }
        index += count
    }

    private mutating func skipString() throws {
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated string") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    _ = try scanHex4()
                default: throw error("invalid escape in a string")
                }
            case 0..<0x20: throw error("control character in a string")
            default: index += 1
            }
        }
        throw error("unterminated string")
    }

    /// A string starting at the opening quote.
    private mutating func scanString() throws -> String {
        index += 1
        let start = index
        var nonASCII: UInt8 = 0
        // Fast path: no escapes, so the bytes are the string.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return try string(bytes[start..<index], checked: nonASCII & 0x80 != 0)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            nonASCII |= byte
            index += 1
        }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try string(utf8[...], checked: nonASCII & 0x80 != 0)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): appendUTF8(of: try scanUnicodeEscape(), to: &utf8)
                default: throw error("invalid escape in a string")
                }
            case 0..<0x20: throw error("control character in a string")
            default:
                nonASCII |= byte
                utf8.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// The string of UTF-8 bytes; text with non-ASCII bytes is validated, so malformed UTF-8 is refused rather
    /// than replaced (as `JSONDecoder` does).
    private func string(_ utf8: ArraySlice<UInt8>, checked: Bool) throws -> String {
        guard checked else { return String(decoding: utf8, as: UTF8.self) }
        guard let text = utf8.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
            throw error("malformed UTF-8 in a string")
        }
        return text
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a surrogate pair. A lone surrogate is
    /// refused, as `JSONDecoder` refuses it.
    private mutating func scanUnicodeEscape() throws -> Unicode.Scalar {
        let first = try scanHex4()
        if (0xD800..<0xDC00).contains(first) {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("lone surrogate in a \\u escape")
            }
            index += 2
            let second = try scanHex4()
            guard (0xDC00..<0xE000).contains(second), let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) else {
                throw error("lone surrogate in a \\u escape")
            }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("lone surrogate in a \\u escape") }
        return scalar
    }

    private mutating func scanHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func appendUTF8(of scalar: Unicode.Scalar, to utf8: inout [UInt8]) {
        UTF8.encode(scalar) { utf8.append($0) }
    }

    /// A number as RFC 8259 writes it: `.int` when it has no fraction or exponent and fits 64 bits.
    private mutating func scanNumber() throws -> JSONValue {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        let integerDigits = index - digitsStart
        guard integerDigits > 0 else {
            index = start
            throw error("expected a value")
        }
        if integerDigits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
            index = start
            throw error("leading zero in a number")
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == fractionStart { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == exponentStart { throw error("expected digits in an exponent") }
        }
        if isInteger, integerDigits <= 18 {
            var value: Int64 = 0
            for byte in bytes[digitsStart..<index] { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
            return .int(bytes[start] == UInt8(ascii: "-") ? -value : value)
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        // A whole number written with a fraction or exponent (`1e3`, `2.0`) is an integer, as Foundation reads it.
        if value.rounded() == value, let int = Int64(exactly: value) { return .int(int) }
        return .double(value)
    }
}
