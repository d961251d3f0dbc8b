/// One server-sent event (the `event:` name is optional; OpenAI chat streams use none).
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }

    /// The event framed for the wire: optional `event:` line, one `data:` line per data line, blank line.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 16)
        if let event {
            out.append(contentsOf: "event: ".utf8)
            out.append(contentsOf: event.utf8)
            out.append(0x0A)
        }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            out.append(contentsOf: "data: ".utf8)
            out.append(contentsOf: line.utf8)
            out.append(0x0A)
        }
        out.append(0x0A)
        return out
    }

    /// `data: <json>\n\n` for a JSON payload already written (no newlines in compact JSON).
    public static func dataFrame(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 8)
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: json)
        out.append(contentsOf: [0x0A, 0x0A])
        return out
    }

    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
}

/// Incremental SSE parser (the WHATWG event-stream rules we need): feed bytes as they arrive, get complete events.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var event: String?
    private var dataLines: [String] = []
    private var sawData = false
    /// Guards against an upstream that never ends a line.
    public let maxLineBytes: Int

    public init(maxLineBytes: Int = 16 * 1024 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    public enum ParseError: Error, Equatable { case lineTooLong }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [ServerSentEvent] {
        buffer.append(contentsOf: bytes)
        var events: [ServerSentEvent] = []
        var start = 0
        var i = 0
        while i < buffer.count {
            let byte = buffer[i]
            if byte == 0x0A || byte == 0x0D {
                let line = String(decoding: buffer[start..<i], as: UTF8.self)
                if byte == 0x0D, i + 1 < buffer.count, buffer[i + 1] == 0x0A { i += 1 }
                if byte == 0x0D, i + 1 == buffer.count {
                    // A CR at the end of what we have: wait for a possible LF before deciding.
                    break
                }
                i += 1
                start = i
                if let e = process(line) { events.append(e) }
                continue
            }
            i += 1
        }
        buffer.removeFirst(start)
        if buffer.count > maxLineBytes { throw ParseError.lineTooLong }
        return events
    }

    /// Call at end of input: a final event without its blank line is still delivered.
    public mutating func finish() -> ServerSentEvent? {
        if !buffer.isEmpty {
            let line = String(decoding: buffer, as: UTF8.self)
            buffer.removeAll()
            if let e = process(line) { return e }
        }
        return process("")
    }

    private mutating func process(_ line: String) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                event = nil
                dataLines.removeAll(keepingCapacity: true)
                sawData = false
            }
            guard sawData else { return nil }
            return ServerSentEvent(event: event, data: dataLines.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = Substring(line)
            value = ""
        }
        switch field {
        case "event": event = String(value)
        case "data":
            dataLines.append(String(value))
            sawData = true
        default: break
        }
        return nil
    }
}

/// Splits a byte stream into lines for NDJSON (Ollama): feed bytes, get complete non-empty lines.
public struct LineSplitter: Sendable {
    private var buffer: [UInt8] = []
    public let maxLineBytes: Int

    public init(maxLineBytes: Int = 16 * 1024 * 1024) { self.maxLineBytes = maxLineBytes }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var lines: [[UInt8]] = []
        var start = 0
        for i in buffer.indices where buffer[i] == 0x0A {
            var end = i
            if end > start, buffer[end - 1] == 0x0D { end -= 1 }
            if end > start { lines.append(Array(buffer[start..<end])) }
            start = i + 1
        }
        buffer.removeFirst(start)
        if buffer.count > maxLineBytes { throw ServerSentEventParser.ParseError.lineTooLong }
        return lines
    }

    public mutating func finish() -> [UInt8]? {
        defer { buffer.removeAll() }
        let trimmed = buffer.last == 0x0D ? Array(buffer.dropLast()) : buffer
        return trimmed.isEmpty ? nil : trimmed
    }
}
