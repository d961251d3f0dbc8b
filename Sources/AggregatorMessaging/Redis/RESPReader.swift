import CHiredis
import NIOCore

/// hiredis' RESP2 reply reader: bytes in (in pieces of any size), whole replies out.
///
/// Pure parsing, no I/O: it never blocks. One reader belongs to one connection and is used from one thread (the
/// connection's event loop). After a protocol error it stays failed (hiredis' error is sticky): the connection must
/// be closed.
public final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let allocator = ByteBufferAllocator()

    public init() {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reply reader")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands bytes to the reader, which keeps them until they make whole replies.
    public func feed(_ bytes: ByteBuffer) throws(RedisError) {
        let status = bytes.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if status != REDIS_OK { throw protocolError() }
    }

    /// The next whole reply, or nil when more bytes are needed.
    public func next() throws(RedisError) -> RESPValue? {
        var reply: UnsafeMutableRawPointer?
        if redisReaderGetReply(reader, &reply) != REDIS_OK {
            throw protocolError()
        }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return convert(reply.assumingMemoryBound(to: redisReply.self))
    }

    private func protocolError() -> RedisError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return .protocolError(message.isEmpty ? "unreadable reply" : message)
    }

    private func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(text(value.str, value.len))
        case REDIS_REPLY_ERROR:
            return .error(text(value.str, value.len))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> ByteBuffer {
        guard let pointer, count > 0 else { return allocator.buffer(capacity: 0) }
        return allocator.buffer(bytes: UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private func text(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> String {
        guard let pointer, count > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}

/// The pipeline's reply decoder: every byte that arrives goes to hiredis, every whole reply goes on as a `RESPValue`.
/// A protocol error is thrown (the command handler then fails what is pending and closes the connection).
struct RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let reader = RESPReader()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try reader.feed(buffer)
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        // hiredis now holds the bytes: hand on every whole reply in them (the handler calls `decode` again only when
        // more bytes arrive).
        while let reply = try reader.next() {
            context.fireChannelRead(wrapInboundOut(reply))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
