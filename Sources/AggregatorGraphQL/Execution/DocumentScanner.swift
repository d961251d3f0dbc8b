/// One pass over a query's bytes before the parser sees them: counts tokens and tracks how deep `{`, `[` and
/// `(` nest. GraphQLSwift's parser recurses once per level of nesting, so a few thousand levels (an 18 KB query)
/// overflow the stack; refusing here keeps every later step shallow. It never recurses, and it stops at the
/// first limit passed, so its time is linear in the text and bounded by the limits.
///
/// It only needs to be right about what counts as a token and as a bracket: strings and comments are skipped
/// whole (a bracket inside them is text), anything it does not know is one token, and syntax errors are left
/// for the parser to report.
struct DocumentScanner {
    let maxTokens: Int
    let maxNesting: Int

    func check(_ text: String) -> LimitExceeded? {
        var text = text
        return text.withUTF8 { check(bytes: $0) }
    }

    func check(bytes: UnsafeBufferPointer<UInt8>) -> LimitExceeded? {
        var i = 0
        var tokens = 0
        var nesting = 0
        let count = bytes.count
        while i < count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ","):
                i += 1
                continue
            case 0xEF where i + 2 < count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF:  // byte order mark
                i += 3
                continue
            case UInt8(ascii: "#"):
                while i < count, bytes[i] != UInt8(ascii: "\n"), bytes[i] != UInt8(ascii: "\r") { i += 1 }
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "("):
                nesting += 1
                if nesting > maxNesting { return .nestedTooDeep(limit: maxNesting) }
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"):
                nesting = max(0, nesting - 1)
                i += 1
            case UInt8(ascii: "\""):
                i = Self.endOfString(bytes, from: i)
            case UInt8(ascii: "."):
                i += (i + 2 < count && bytes[i + 1] == UInt8(ascii: ".") && bytes[i + 2] == UInt8(ascii: ".")) ? 3 : 1
            default:
                if Self.isNameOrNumberByte(byte) {
                    i += 1
                    while i < count, Self.isNameOrNumberByte(bytes[i]) { i += 1 }
                } else {
                    i += 1
                }
            }
            tokens += 1
            if tokens > maxTokens { return .tooManyTokens(limit: maxTokens) }
        }
        return nil
    }

    /// Letters, digits, `_`, and the `-`, `.`, `+` a number may hold: a run of them is one token at most.
    private static func isNameOrNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"):
            true
        default:
            false
        }
    }

    /// The index just past the string or block string opening at `start` (or the end of the text).
    private static func endOfString(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        let quote = UInt8(ascii: "\"")
        if start + 2 < count, bytes[start + 1] == quote, bytes[start + 2] == quote {
            var i = start + 3
            while i < count {
                if bytes[i] == UInt8(ascii: "\\"), i + 3 < count, bytes[i + 1] == quote, bytes[i + 2] == quote, bytes[i + 3] == quote {
                    i += 4
                } else if bytes[i] == quote, i + 2 < count, bytes[i + 1] == quote, bytes[i + 2] == quote {
                    return i + 3
                } else {
                    i += 1
                }
            }
            return count
        }
        var i = start + 1
        while i < count {
            switch bytes[i] {
            case quote: return i + 1
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): return i  // unterminated: the parser reports it
            default: i += 1
            }
        }
        return count
    }
}
