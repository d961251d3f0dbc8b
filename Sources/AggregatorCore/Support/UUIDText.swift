import Foundation

extension UUID {
    /// The canonical lower-case text form (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), as every id is stored and
    /// shown. Same text as `uuidString.lowercased()`, written directly: Foundation's `uuidString` goes through
    /// `sprintf` and the lower-casing through a second string, and the metering writer formats several ids per
    /// request.
    public var lowercasedText: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                digits.withUTF8Buffer { hex in
                    var i = 0
                    for (n, byte) in bytes.enumerated() {
                        if n == 4 || n == 6 || n == 8 || n == 10 {
                            out[i] = UInt8(ascii: "-")
                            i += 1
                        }
                        out[i] = hex[Int(byte >> 4)]
                        out[i + 1] = hex[Int(byte & 0x0F)]
                        i += 2
                    }
                }
                return 36
            }
        }
    }
}
