import NIOCore

/// One RESP2 reply, as hiredis parsed it.
///
/// hiredis 0.14 reports a null bulk string (`$-1`) and a null array (`*-1`) alike, as `.null`.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …`: an error reply. A top-level one is thrown as `RedisError.reply`; inside an array (EXEC) it stays a value.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$3\r\nabc`: binary-safe.
    case bulkString(ByteBuffer)
    /// `$-1` or `*-1`
    case null
    /// `*2 …`
    case array([RESPValue])
}

extension RESPValue {
    /// The text of a simple or bulk string (bulk bytes decoded as UTF-8), or nil.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        default: nil
        }
    }

    /// An integer reply, or a string reply holding a decimal integer.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString, .bulkString: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array reply, or nil.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
