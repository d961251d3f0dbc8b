import NIOCore

/// One entry of an XREAD / XREADGROUP reply: its id and its field-value pairs.
struct RedisStreamEntry: Sendable, Hashable {
    var id: String
    var fields: [String: ByteBuffer]

    /// The entries of `XREAD … STREAMS key id` (or XREADGROUP) for any key: `[[key, [[id, [f, v, …]], …]], …]`;
    /// empty for a null reply (the block time passed).
    static func parse(_ reply: RESPValue) -> [RedisStreamEntry] {
        guard let streams = reply.array else { return [] }
        var out: [RedisStreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let entries = pair[1].array else { continue }
            for entry in entries {
                guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                var fields: [String: ByteBuffer] = [:]
                let flat = parts[1].array ?? []
                var i = 0
                while i + 1 < flat.count {
                    if let name = flat[i].string, case .bulkString(let value) = flat[i + 1] { fields[name] = value }
                    i += 2
                }
                out.append(RedisStreamEntry(id: id, fields: fields))
            }
        }
        return out
    }

    func string(_ name: String) -> String? { fields[name].map { String(buffer: $0) } }
}
