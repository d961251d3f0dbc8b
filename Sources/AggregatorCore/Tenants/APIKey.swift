import Crypto

/// Tenant API keys: `sk-agg-` + 40 random base62 characters, stored only as a SHA-256 hash and a display prefix.
public enum APIKey {
    public static let scheme = "sk-agg-"

    /// The token of an `Authorization: Bearer TOKEN` value (scheme case-insensitive, blanks around the token
    /// ignored); nil for any other value or an empty token.
    public static func bearerToken(_ authorization: String) -> String? {
        let utf8 = authorization.utf8
        var i = utf8.startIndex
        for letter in "bearer".utf8 {
            guard i < utf8.endIndex, utf8[i] | 0x20 == letter else { return nil }
            i = utf8.index(after: i)
        }
        guard i < utf8.endIndex, utf8[i] == UInt8(ascii: " ") else { return nil }
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = utf8.index(after: i)
        var end = utf8.endIndex
        while start < end, isBlank(utf8[start]) { start = utf8.index(after: start) }
        while end > start, isBlank(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        return start < end ? String(authorization[start..<end]) : nil
    }
    static let randomLength = 40
    static let prefixLength = scheme.count + 6
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// A new key from the system's secure generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var key = scheme
        for _ in 0..<randomLength {
            key.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)])
        }
        return key
    }

    /// Lower-case hex SHA-256 of the key's UTF-8 bytes.
    public static func hash(_ key: String) -> String {
        hex(digest(key))
    }

    /// The SHA-256 digest of a key.
    public static func digest(_ key: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(key.utf8)))
    }

    /// Lowercase hex of a digest (the stored form of `hash`).
    public static func hex(_ digest: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: digest.count * 2) { buffer in
            for (i, byte) in digest.enumerated() {
                buffer[2 * i] = hexUTF8[Int(byte >> 4)]
                buffer[2 * i + 1] = hexUTF8[Int(byte & 0xF)]
            }
            return digest.count * 2
        }
    }

    private static let hexUTF8 = Array("0123456789abcdef".utf8)

    /// What the dashboard shows of a key: `sk-agg-` and the next six characters.
    public static func displayPrefix(_ key: String) -> String { String(key.prefix(prefixLength)) }
}
