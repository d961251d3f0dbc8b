import AggregatorProviders
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// The two servers `make bench` compares the gateway with.
///
/// `aggregator-bench-upstream PORT`: a fast fake OpenAI upstream. It answers every chat completion with a fixed
/// body, or a fixed SSE stream (text chunks, finish chunk, usage chunk, `[DONE]`) when the request asks to stream.
/// It is a fake Anthropic upstream too: `POST /v1/messages` answers the same text as a Messages answer, or as
/// Anthropic's event stream (`message_start`, a text block word by word, `message_delta`, `message_stop`).
///
/// `aggregator-bench-upstream PORT --passthrough URL`: the floor for a Swift gateway on this machine, a bare
/// Hummingbird + AsyncHTTPClient pass-through with Swift concurrency on NIO's event loops and one upstream client per
/// event loop, like the gateway: it forwards the body to `URL` and returns the answer (whole, or its SSE bytes as
/// they come), with no auth, parsing or metering.
let arguments = Array(CommandLine.arguments.dropFirst())
let port = Int(arguments.first ?? "") ?? 18_081
if arguments.count == 3, arguments[1] == "--passthrough" {
    EventLoopConcurrency.install()
    try await runPassthrough(port: port, upstream: arguments[2])
    exit(0)
}

let completion = ByteBuffer(
    string: #"{"id":"chatcmpl-bench","object":"chat.completion","created":1730000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The quick brown fox jumps over the lazy dog.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}"#
)
let words = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog."]
func chunk(_ delta: String, finish: String = "null") -> String {
    #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}],"usage":null}"# + "\n\n"
}
let streamParts: [ByteBuffer] =
    [ByteBuffer(string: chunk(#"{"role":"assistant","content":""}"#))]
    + words.map { ByteBuffer(string: chunk(#"{"content":"\#($0)"}"#)) }
    + [
        ByteBuffer(string: chunk("{}", finish: #""stop""#)),
        ByteBuffer(
            string: #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}"#
                + "\n\ndata: [DONE]\n\n"),
    ]
let streamMarker = Array(#""stream":true"#.utf8)

let message = ByteBuffer(
    string: #"{"id":"msg_bench","type":"message","role":"assistant","model":"claude-bench","content":[{"type":"text","text":"The quick brown fox jumps over the lazy dog."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}}"#
)
func event(_ type: String, _ data: String) -> ByteBuffer { ByteBuffer(string: "event: \(type)\ndata: \(data)\n\n") }
let messageParts: [ByteBuffer] =
    [
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-bench","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#),
        event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
    ]
    + words.map { event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#($0)"}}"#) }
    + [
        event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":10}}"#),
        event("message_stop", #"{"type":"message_stop"}"#),
    ]

let router = Router()
router.post("/v1/chat/completions") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    let streaming = body.readableBytesView.firstRange(of: streamMarker) != nil
    if streaming {
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                for part in streamParts { try await writer.write(part) }
                try await writer.finish(nil)
            })
    }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: completion))
}
router.post("/v1/messages") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    if body.readableBytesView.firstRange(of: streamMarker) != nil {
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8"],
            body: ResponseBody { writer in
                for part in messageParts { try await writer.write(part) }
                try await writer.finish(nil)
            })
    }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: message))
}
router.get("/v1/models") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"openai"}]}"#)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()

func runPassthrough(port: Int, upstream: String) async throws {
    // The gateway's own transport: one client per event loop, each request on its own loop's client.
    let clients = UpstreamClients(timeout: .seconds(30))
    let router = Router()
    router.post("/v1/chat/completions") { request, _ -> Response in
        var outgoing = HTTPClientRequest(url: upstream)
        outgoing.method = .POST
        outgoing.headers.add(name: "content-type", value: "application/json")
        outgoing.body = .bytes(try await request.body.collect(upTo: 1 << 20))
        let answer = try await clients.current.execute(outgoing, timeout: .seconds(30))
        let contentType = answer.headers.first(name: "content-type") ?? "application/json"
        guard contentType.hasPrefix("text/event-stream") else {
            let whole = try await answer.body.collect(upTo: 1 << 24)
            return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: whole))
        }
        return Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody { writer in
                for try await part in answer.body { try await writer.write(part) }
                try await writer.finish(nil)
            })
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
    try await app.runService()
}
