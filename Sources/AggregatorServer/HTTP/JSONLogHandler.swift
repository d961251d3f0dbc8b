import AggregatorWire
import Foundation
import Logging

/// `LOG_FORMAT=json`: one JSON object per line on standard error.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var w = JSONWriter()
        w.object { w in
            w.field("time", RFC3339.string(Date()))
            w.field("level", event.level.rawValue)
            w.field("label", label)
            w.field("message", event.message.description)
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
                w.field(key, value.description)
            }
        }
        var line = w.bytes
        line.append(0x0A)
        FileHandle.standardError.write(Data(line))
    }
}
