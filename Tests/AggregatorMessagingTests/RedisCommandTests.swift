import AggregatorMessaging
import NIOCore
import Testing

@Suite struct RedisCommandTests {
    @Test func encodesWithHiredis() {
        var bytes = ByteBuffer()
        RedisCommand("SET", "job:1", "queued").encode(into: &bytes)
        #expect(String(buffer: bytes) == "*3\r\n$3\r\nSET\r\n$5\r\njob:1\r\n$6\r\nqueued\r\n")
    }

    @Test func encodingIsBinarySafe() throws {
        let binary: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x24]
        var bytes = ByteBuffer()
        RedisCommand("SET", RedisArgument(bytes: binary), "", 42).encode(into: &bytes)
        var expected = ByteBuffer(string: "*4\r\n$3\r\nSET\r\n$5\r\n")
        expected.writeBytes(binary)
        expected.writeString("\r\n$0\r\n\r\n$2\r\n42\r\n")
        #expect(bytes == expected)

        // A command is a RESP array of bulk strings: hiredis' reader reads it back.
        let reader = RESPReader()
        try reader.feed(bytes)
        #expect(
            try reader.next()
                == .array([
                    .bulkString(ByteBuffer(string: "SET")), .bulkString(ByteBuffer(bytes: binary)), .bulkString(ByteBuffer()),
                    .bulkString(ByteBuffer(string: "42")),
                ]))
    }

    @Test func commandNameForLogsNeverArguments() {
        #expect(RedisCommand("auth", "alice", "secret").name == "AUTH")
    }
}
