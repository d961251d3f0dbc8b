import AggregatorServer
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct LineLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ bytes: [UInt8]) { lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } }
    }

    private func logger(_ format: LineLogHandler.Format, into lines: Lines) -> Logger {
        var logger = Logger(label: "aggregator") { label in
            LineLogHandler(label: label, format: format, write: lines.append, now: { Date(timeIntervalSince1970: 1_764_000_000.25) })
        }
        logger[metadataKey: "request_id"] = "req_1"
        return logger
    }

    @Test func textLinesCarryTimeLevelLabelMessageAndSortedMetadata() {
        let lines = Lines()
        let log = logger(.text, into: lines)
        log.warning("target failed; trying the next", metadata: ["target": "openai/gpt-4o", "error": "timeout"])
        log.debug("not written below the handler's level")
        #expect(lines.all == ["2025-11-24T16:00:00.250Z warning aggregator: target failed; trying the next error=timeout request_id=req_1 target=openai/gpt-4o\n"])
    }

    @Test func jsonLinesAreOneObjectEach() throws {
        let lines = Lines()
        let log = logger(.json, into: lines)
        log.info("listening", metadata: ["address": "http://127.0.0.1:8080", "request_id": "req_2"])
        #expect(lines.all == [#"{"time":"2025-11-24T16:00:00.250Z","level":"info","label":"aggregator","message":"listening","address":"http://127.0.0.1:8080","request_id":"req_2"}"# + "\n"])
    }
}
