import CHiredis
import NIOCore

/// One argument of a command: binary-safe bytes, written from strings, integers or raw bytes.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringInterpolation
{
    public var bytes: ByteBuffer

    public init(bytes: ByteBuffer) { self.bytes = bytes }
    public init(bytes: some Sequence<UInt8>) { self.bytes = ByteBuffer(bytes: bytes) }
    public init(_ string: String) { self.bytes = ByteBuffer(string: string) }
    public init(_ integer: some BinaryInteger) { self.bytes = ByteBuffer(string: String(integer)) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}

/// A command and its arguments (`["SET", "key", "value"]`), encoded by hiredis' `redisFormatCommandArgv`.
public struct RedisCommand: Sendable, Hashable {
    public var arguments: [RedisArgument]

    public init(_ arguments: [RedisArgument]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        self.arguments = arguments
    }

    public init(_ arguments: RedisArgument...) {
        self.init(arguments)
    }

    /// The command's name in upper case, for logs (never its arguments: they may hold secrets).
    public var name: String {
        String(buffer: arguments[0].bytes).uppercased()
    }

    /// Appends the command in RESP (`*3\r\n$3\r\nSET\r\n…`) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        // hiredis wants a pointer and a length per argument: lay the arguments out in one block.
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(0) { $0 + $1.bytes.readableBytes })
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(storage.count)
            lengths.append(argument.bytes.readableBytes)
            storage.append(contentsOf: argument.bytes.readableBytesView)
        }
        storage.append(0)  // never empty, so the block always has an address
        var formatted: UnsafeMutablePointer<CChar>?
        let count = storage.withUnsafeBufferPointer { block -> Int32 in
            let base = UnsafeRawPointer(block.baseAddress!).assumingMemoryBound(to: CChar.self)
            let argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return argv.withUnsafeBufferPointer { argvPointer in
                lengths.withUnsafeBufferPointer { lengthPointer in
                    redisFormatCommandArgv(
                        &formatted, Int32(arguments.count), UnsafeMutablePointer(mutating: argvPointer.baseAddress),
                        lengthPointer.baseAddress)
                }
            }
        }
        guard count >= 0, let formatted else {
            fatalError("hiredis could not allocate memory to format a command")
        }
        defer { redisFreeCommand(formatted) }
        buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(count)))
    }
}
