import AggregatorWire

/// Counts tokens as the stub provider does (SPEC §11): ceil(UTF-8 bytes / 4), at least 1 per message.
/// Also the estimate used to meter a stream that was cut before its upstream reported usage.
public enum TokenEstimator {
    public static func tokens(_ text: String) -> Int {
        max(1, (text.utf8.count + 3) / 4)
    }

    public static func promptTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + tokens($1.text) }
    }
}
