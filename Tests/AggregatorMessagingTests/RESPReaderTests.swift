import AggregatorMessaging
import NIOCore
import Testing

/// hiredis' reader behind `RESPReader`: no server needed.
@Suite struct RESPReaderTests {
    static let replies: [(String, [UInt8], RESPValue)] = [
        ("status", Array("+OK\r\n".utf8), .simpleString("OK")),
        ("error", Array("-ERR unknown command 'FOO'\r\n".utf8), .error("ERR unknown command 'FOO'")),
        ("integer", Array(":1042\r\n".utf8), .integer(1042)),
        ("negative integer", Array(":-7\r\n".utf8), .integer(-7)),
        ("largest integer", Array(":9223372036854775807\r\n".utf8), .integer(Int64.max)),
        ("bulk string", Array("$5\r\nhello\r\n".utf8), .bulkString(ByteBuffer(string: "hello"))),
        ("empty bulk string", Array("$0\r\n\r\n".utf8), .bulkString(ByteBuffer())),
        (
            "binary bulk string with CRLF and NUL", [0x24, 0x36, 0x0D, 0x0A, 0x61, 0x0D, 0x0A, 0x00, 0x62, 0xFF, 0x0D, 0x0A],
            .bulkString(ByteBuffer(bytes: [0x61, 0x0D, 0x0A, 0x00, 0x62, 0xFF]))
        ),
        ("null bulk string", Array("$-1\r\n".utf8), .null),
        ("null array", Array("*-1\r\n".utf8), .null),
        ("empty array", Array("*0\r\n".utf8), .array([])),
        (
            "nested arrays with nulls",
            Array("*3\r\n*2\r\n:1\r\n$1\r\na\r\n*1\r\n$-1\r\n*-1\r\n".utf8),
            .array([.array([.integer(1), .bulkString(ByteBuffer(string: "a"))]), .array([.null]), .null])
        ),
        (
            "XREADGROUP shape",
            Array(
                "*1\r\n*2\r\n$8\r\nagg:jobs\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$2\r\nid\r\n$3\r\nj-7\r\n".utf8),
            .array([
                .array([
                    .bulkString(ByteBuffer(string: "agg:jobs")),
                    .array([
                        .array([
                            .bulkString(ByteBuffer(string: "1-0")),
                            .array([.bulkString(ByteBuffer(string: "id")), .bulkString(ByteBuffer(string: "j-7"))]),
                        ])
                    ]),
                ])
            ])
        ),
        (
            "EXEC with an error inside",
            Array("*2\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".utf8),
            .array([.simpleString("OK"), .error("WRONGTYPE Operation against a key holding the wrong kind of value")])
        ),
    ]

    @Test(arguments: replies.indices)
    func replySplitAtEveryByte(_ index: Int) throws {
        let (name, bytes, expected) = Self.replies[index]
        for split in 0...bytes.count {
            let reader = RESPReader()
            try reader.feed(ByteBuffer(bytes: bytes[..<split]))
            if split < bytes.count {
                #expect(try reader.next() == nil, "\(name): a reply from \(split) of \(bytes.count) bytes")
            }
            try reader.feed(ByteBuffer(bytes: bytes[split...]))
            #expect(try reader.next() == expected, "\(name), split at \(split)")
            #expect(try reader.next() == nil, "\(name): nothing after the reply")
        }
    }

    @Test(arguments: replies.indices)
    func replyFedOneByteAtATime(_ index: Int) throws {
        let (name, bytes, expected) = Self.replies[index]
        let reader = RESPReader()
        var decoded: [RESPValue] = []
        for byte in bytes {
            try reader.feed(ByteBuffer(bytes: [byte]))
            while let reply = try reader.next() { decoded.append(reply) }
        }
        #expect(decoded == [expected], "\(name)")
    }

    @Test func thousandPipelinedRepliesInOneRead() throws {
        var bytes = ByteBuffer()
        for index in 0..<1000 {
            bytes.writeString(index % 2 == 0 ? ":\(index)\r\n" : "$\(String(index).count)\r\n\(index)\r\n")
        }
        let reader = RESPReader()
        try reader.feed(bytes)
        var decoded: [RESPValue] = []
        while let reply = try reader.next() { decoded.append(reply) }
        #expect(decoded.count == 1000)
        let expected = (0..<1000).map { index -> RESPValue in
            index % 2 == 0 ? .integer(Int64(index)) : .bulkString(ByteBuffer(string: String(index)))
        }
        #expect(decoded == expected)
    }

    @Test(arguments: [1 << 20 + 3, 16 << 20])
    func largeBulkStringInChunks(size: Int) throws {
        var generator = SplitMix64(seed: UInt64(size))
        let payload = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let wire = Array("$\(size)\r\n".utf8) + payload + Array("\r\n+OK\r\n".utf8)
        let reader = RESPReader()
        var decoded: [RESPValue] = []
        for start in stride(from: 0, to: wire.count, by: 65_536) {
            try reader.feed(ByteBuffer(bytes: wire[start..<min(start + 65_536, wire.count)]))
            while let reply = try reader.next() { decoded.append(reply) }
        }
        #expect(decoded.count == 2)
        guard case .bulkString(let bytes) = decoded.first else {
            Issue.record("expected a bulk string, got \(String(describing: decoded.first))")
            return
        }
        #expect(bytes.readableBytes == size)
        #expect(Array(bytes.readableBytesView) == payload)
        #expect(decoded.last == .simpleString("OK"))
    }

    @Test func garbageIsAProtocolError() throws {
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: "+OK\r\nhello\r\n"))
        #expect(try reader.next() == .simpleString("OK"))
        #expect(throws: RedisError.protocolError("Protocol error, got \"h\" as reply type byte")) { try reader.next() }
        // The error is sticky: the connection has to go.
        #expect(throws: RedisError.self) { try reader.feed(ByteBuffer(string: "+OK\r\n")) }
    }

    @Test func nestingDeeperThanHiredisReadsIsAProtocolError() throws {
        let reader = RESPReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 9) + ":1\r\n"))
        #expect(throws: RedisError.protocolError("No support for nested multi bulk replies with depth > 7")) {
            try reader.next()
        }
        // Eight levels (XREADGROUP needs three, XINFO STREAM FULL five) are read.
        let eight = RESPReader()
        try eight.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 8) + ":1\r\n"))
        var expected = RESPValue.integer(1)
        for _ in 0..<8 { expected = .array([expected]) }
        #expect(try eight.next() == expected)
    }
}

/// Reproducible pseudo-random bytes for the large payloads.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
