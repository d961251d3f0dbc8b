import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ids from random bytes of the system's cryptographic generator, fetched 4 KiB at a time.
///
/// `UUID()` and `SystemRandomNumberGenerator` make one `getrandom` system call per value; a request needs a few
/// ids (request, job, usage row), and those calls showed up at a few percent of the gateway's CPU in the
/// benchmark. The bytes are the same quality, only fetched in bulk.
public enum RandomPool {
    private static let size = 4096
    private struct Buffer: ~Copyable {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: RandomPool.size, alignment: 16)
        var used = RandomPool.size
    }

    private static let pool = Mutex(Buffer())

    /// 16 random bytes.
    private static func next16() -> (UInt64, UInt64) {
        pool.withLock { buffer in
            if buffer.used + 16 > size {
                arc4random_buf(buffer.bytes.baseAddress!, size)
                buffer.used = 0
            }
            defer { buffer.used += 16 }
            return (
                buffer.bytes.loadUnaligned(fromByteOffset: buffer.used, as: UInt64.self),
                buffer.bytes.loadUnaligned(fromByteOffset: buffer.used + 8, as: UInt64.self)
            )
        }
    }

    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.
    ///
    /// Row ids are made with it: ids created close together sort close together, so inserting them touches the
    /// right edge of a B-tree index instead of a random page per row (random v4 ids made each batch of usage
    /// rows rewrite hundreds of index pages in SQLite's WAL, and bloat PostgreSQL's indexes the same way).
    public static func uuid(at date: Date = Date()) -> UUID {
        let (high, low) = next16()
        let millis = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
        }
        bytes.0 = UInt8(truncatingIfNeeded: millis >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: millis >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: millis >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: millis >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: millis >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: millis)
        bytes.6 = (bytes.6 & 0x0F) | 0x70
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `prefix` followed by `digits` (at most 32) random lowercase hex digits.
    public static func hexID(prefix: String, digits: Int) -> String {
        precondition(digits <= 32)
        let (high, low) = next16()
        var utf8 = Array(prefix.utf8)
        utf8.reserveCapacity(utf8.count + digits)
        for i in 0..<digits {
            let word = i < 16 ? high : low
            utf8.append(hexDigits[Int((word >> UInt64((i % 16) * 4)) & 0x0F)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
