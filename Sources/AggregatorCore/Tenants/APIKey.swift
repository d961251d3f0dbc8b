import Crypto

/// Tenant API keys: `sk-agg-` + 40 random base62 characters, stored only as a SHA-256 hash and a display prefix.
public enum APIKey {
    public static let scheme = "sk-agg-"

    /// The token of an `Authorization: Bearer TOKEN` value (scheme case-insensitive, blanks around the token
    /// ignored); nil for any other value or an empty token.
    public static func bearerToken(_ authorization: String) -> String? {
        guard let space = authorization.utf8.firstIndex(of: UInt8(ascii: " ")),
            authorization[..<space].lowercased() == "bearer"
        else { return nil }
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let token = authorization[space...].drop(while: isBlank).reversed().drop(while: isBlank).reversed()
        return token.isEmpty ? nil : String(token)
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
        let digest = SHA256.hash(data: Array(key.utf8))
        var hex = ""
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0xF)])
        }
        return hex
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// What the dashboard shows of a key: `sk-agg-` and the next six characters.
    public static func displayPrefix(_ key: String) -> String { String(key.prefix(prefixLength)) }
}
