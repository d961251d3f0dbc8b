import AggregatorWire
import Foundation
import Logging

/// One line per log event on standard error: `LOG_FORMAT=text` (time, level, label, message, then `key=value`
/// metadata) or `json` (one JSON object).
///
/// Metadata is only stored when set and formatted when a line is written. Swift-log's `StreamLogHandler` formats its
/// whole metadata each time a key is set, and every request sets its request id on its logger: that cost ~1 % of
/// the gateway's CPU in the benchmark, for lines that are almost never written.
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Format
    let write: @Sendable ([UInt8]) -> Void
    let now: @Sendable () -> Date

    /// `write` takes each finished line (standard error unless a test catches them); `now` gives its time.
    public init(
        label: String, format: Format, write: @escaping @Sendable ([UInt8]) -> Void = { FileHandle.standardError.write(Data($0)) },
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.label = label
        self.format = format
        self.write = write
        self.now = now
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        let time = RFC3339.string(now())
        var line: [UInt8]
        switch format {
        case .json:
            var w = JSONWriter()
            w.object { w in
                w.field("time", time)
                w.field("level", event.level.rawValue)
                w.field("label", label)
                w.field("message", event.message.description)
                for (key, value) in fields { w.field(key, value.description) }
            }
            line = w.bytes
        case .text:
            var text = "\(time) \(event.level) \(label): \(event.message)"
            for (key, value) in fields { text += " \(key)=\(value)" }
            line = Array(text.utf8)
        }
        line.append(0x0A)
        write(line)
    }
}
