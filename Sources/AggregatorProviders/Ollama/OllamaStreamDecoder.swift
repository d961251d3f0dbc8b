import AggregatorCore
import AggregatorWire
import Foundation
import NIOCore

/// Turns the bytes of an Ollama NDJSON stream into OpenAI chunks. The stream is complete only at its
/// `done:true` line; a body that ends before it is a broken stream, and an `{"error":…}` line is an upstream
/// failure after the 200.
struct OllamaStreamDecoder: UpstreamStreamDecoder {
    private var lines = LineSplitter()
    private var translator: OllamaResponseTranslator

    init(translator: OllamaResponseTranslator) {
        self.translator = translator
    }

    var isComplete: Bool { translator.isFinished }

    mutating func feed(_ bytes: ByteBuffer?, into chunks: inout [ChatCompletionChunk]) throws {
        let found: [[UInt8]]
        if let bytes {
            do {
                found = try lines.feed(bytes.readableBytesView)
            } catch {
                throw UpstreamError.protocolError("ollama sent a line that is too long")
            }
        } else {
            found = lines.finish().map { [$0] } ?? []
        }
        for line in found where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            if isComplete { return }
            let response: OllamaChatResponse
            do {
                response = try JSONReader.decode(OllamaChatResponse.self, from: line)
            } catch {
                throw UpstreamError.protocolError("ollama sent a line that is not a chat response")
            }
            chunks += try translator.chunks(response)
        }
        if bytes == nil, !isComplete {
            throw UpstreamError.connection("the ollama stream ended before its done line")
        }
    }
}
