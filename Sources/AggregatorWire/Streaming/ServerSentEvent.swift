/// One server-sent event (the `event:` name is optional; OpenAI chat streams use none).
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    /// The data lines joined by `\n`, as the bytes arrived (the parser never decodes them as text).
    public var dataBytes: [UInt8]

    public var data: String { String(decoding: dataBytes, as: UTF8.self) }

    public init(event: String? = nil, data: String) {
        self.event = event
        self.dataBytes = Array(data.utf8)
    }

    public init(event: String?, dataBytes: [UInt8]) {
        self.event = event
        self.dataBytes = dataBytes
    }

    /// The event framed for the wire: optional `event:` line, one `data:` line per data line, blank line.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(dataBytes.count + 16)
        if let event {
            out.append(contentsOf: "event: ".utf8)
            out.append(contentsOf: event.utf8)
            out.append(0x0A)
        }
        for line in dataBytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            out.append(contentsOf: "data: ".utf8)
            out.append(contentsOf: line)
            out.append(0x0A)
        }
        out.append(0x0A)
        return out
    }

    /// `data: <json>\n\n` for a JSON payload already written (no newlines in compact JSON).
    public static func dataFrame(_ json: [UInt8]) -> [UInt8] {
        dataFrame(capacity: json.count + 8) { $0.frameBytes(json) }
    }

    /// `data: <json>\n\n` with the JSON written straight into the frame's one buffer (no newlines in compact JSON).
    public static func dataFrame(capacity: Int = 384, writing write: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        writer.frameBytes(dataPrefix)
        write(&writer)
        writer.frameBytes(frameEnd)
        return writer.bytes
    }

    /// `event: <name>\ndata: <json>\n\n` (Anthropic's framing: every event named), written as `dataFrame` is.
    public static func namedFrame(_ event: String, capacity: Int = 256, writing write: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        writer.frameBytes(eventPrefix)
        writer.frameBytes(Array(event.utf8))
        writer.frameBytes([0x0A])
        writer.frameBytes(dataPrefix)
        write(&writer)
        writer.frameBytes(frameEnd)
        return writer.bytes
    }

    static let eventPrefix: [UInt8] = Array("event: ".utf8)
    static let dataPrefix: [UInt8] = Array("data: ".utf8)
    private static let frameEnd: [UInt8] = [0x0A, 0x0A]
    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
}

/// Incremental SSE parser (the WHATWG event-stream rules we need): feed bytes as they arrive, get complete events.
/// It works on bytes throughout; only an `event:` name becomes a String.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var event: String?
    private var data: [UInt8] = []
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
        let count = buffer.count
        while i < count {
            let byte = buffer[i]
            guard byte == 0x0A || byte == 0x0D else {
                i += 1
                continue
            }
            // A CR at the end of what we have: wait for a possible LF before deciding.
            if byte == 0x0D, i + 1 == count { break }
            let end = i
            if byte == 0x0D, buffer[i + 1] == 0x0A { i += 1 }
            i += 1
            if let e = process(start, end) { events.append(e) }
            start = i
        }
        buffer.removeFirst(start)
        if buffer.count > maxLineBytes { throw ParseError.lineTooLong }
        return events
    }

    /// Call at end of input: a final event without its blank line is still delivered.
    public mutating func finish() -> ServerSentEvent? {
        if !buffer.isEmpty {
            let end = buffer.last == 0x0D ? buffer.count - 1 : buffer.count
            let e = process(0, end)
            buffer.removeAll()
            if let e { return e }
        }
        return process(0, 0)
    }

    /// One line, `buffer[lo..<hi]` without its line ending.
    private mutating func process(_ lo: Int, _ hi: Int) -> ServerSentEvent? {
        if lo == hi {
            defer {
                event = nil
                data = []
                sawData = false
            }
            guard sawData else { return nil }
            return ServerSentEvent(event: event, dataBytes: data)
        }
        if buffer[lo] == UInt8(ascii: ":") { return nil }
        var colon = lo
        while colon < hi, buffer[colon] != UInt8(ascii: ":") { colon += 1 }
        var value = min(colon + 1, hi)
        if value < hi, buffer[value] == UInt8(ascii: " ") { value += 1 }
        let field = buffer[lo..<colon]
        if field.elementsEqual(Self.dataField) {
            if sawData { data.append(0x0A) }
            data.append(contentsOf: buffer[value..<hi])
            sawData = true
        } else if field.elementsEqual(Self.eventField) {
            event = String(decoding: buffer[value..<hi], as: UTF8.self)
        }
        return nil
    }

    private static let dataField = Array("data".utf8)
    private static let eventField = Array("event".utf8)
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
