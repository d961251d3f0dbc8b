import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// The Anthropic Messages API read from a client and answered to it (SPEC §15): the request as the chat path sends it,
/// the body a Claude target gets, and the exact events an OpenAI-shaped stream becomes.
@Suite struct AnthropicInboundTests {
    static func read(_ json: String, requireMaxTokens: Bool = true) throws -> AnthropicMessagesRequest {
        try AnthropicMessagesRequest(body: Array(json.utf8), requireMaxTokens: requireMaxTokens)
    }

    @Test func claudeBodyKeepsEveryByteButTheModel() throws {
        let body = """
            { "max_tokens" : 10,  "model" :  "claude/x",\n "system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}],
              "messages":[{"role":"user","content":"caf\\u00e9"}], "thinking":{"type":"adaptive"}, "x-unknown": [1, 2.50] }
            """
        let request = try Self.read(body)
        #expect(request.model == "claude/x")
        #expect(String(decoding: request.body(model: "claude-\"q\""), as: UTF8.self) == body.replacingOccurrences(of: #""claude/x""#, with: #""claude-\"q\"""#))
    }

    /// Thinking blocks the gateway made (its marker signature) are cut from a Claude body wherever they stand, with
    /// one separating comma each; Anthropic's signed thinking and every other byte stay (claude-code-hub #518).
    @Test(arguments: [
        (#"[OURS, {"type":"text","text":"4"}]"#, #"[{"type":"text","text":"4"}]"#),
        (#"[{"type":"text","text":"4"} , OURS]"#, #"[{"type":"text","text":"4"} ]"#),
        (#"[SIGNED,OURS,OURS,{"type":"text","text":"4"}]"#, #"[SIGNED,{"type":"text","text":"4"}]"#),
        (#"[OURS, OURS, SIGNED]"#, #"[SIGNED]"#),
        (#"[SIGNED]"#, #"[SIGNED]"#),
    ])
    func claudeBodyLosesOnlyOurThinking(content: String, kept: String) throws {
        func body(_ content: String, model: String) -> String {
            let filled = content
                .replacingOccurrences(of: "OURS", with: #"{"type":"thinking","thinking":"x","signature":"aggregator:unsigned-thinking"}"#)
                .replacingOccurrences(of: "SIGNED", with: #"{"type":"thinking","thinking":"y","signature":"EqQBCgIYAhIM"}"#)
            return #"{"model":"\#(model)","max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":\#(filled)},"#
                + #"{"role":"user","content":"more"}]}"#
        }
        let request = try Self.read(body(content, model: "claude/x"))
        #expect(String(decoding: request.body(model: "x"), as: UTF8.self) == body(kept, model: "x"))
    }

    /// A turn whose blocks are all thinking the gateway made would be left with an empty `content`, which Claude
    /// refuses: the whole message goes, with one separating comma (Anthropic joins the turns around it).
    @Test(arguments: [
        (#"[Q, M(OURS), Q]"#, #"[Q, Q]"#),
        (#"[Q,M(OURS)]"#, #"[Q]"#),
        (#"[M(OURS) , Q]"#, #"[Q]"#),
        (#"[Q, M(OURS, OURS), M(OURS), Q]"#, #"[Q, Q]"#),
        (#"[Q, M(OURS, TXT), Q]"#, #"[Q, M(TXT), Q]"#),
        (#"[Q, M(), Q]"#, #"[Q, M(), Q]"#),
        (#"[Q, M(SIGNED), Q]"#, #"[Q, M(SIGNED), Q]"#),
    ])
    func aTurnOfOnlyOurThinkingIsCutWhole(messages: String, kept: String) throws {
        func body(_ messages: String, model: String) -> String {
            // Q a user turn, M(…) an assistant turn: expanded before the blocks, whose JSON holds those letters.
            let filled = messages
                .replacingOccurrences(of: "Q", with: #"{"role":"user","content":"hi"}"#)
                .replacingOccurrences(of: "M(", with: #"{"role":"assistant","content":["#)
                .replacingOccurrences(of: ")", with: "]}")
                .replacingOccurrences(of: "OURS", with: #"{"type":"thinking","thinking":"x","signature":"aggregator:unsigned-thinking"}"#)
                .replacingOccurrences(of: "SIGNED", with: #"{"type":"thinking","thinking":"y","signature":"EqQBCgIYAhIM"}"#)
                .replacingOccurrences(of: "TXT", with: #"{"type":"text","text":"4"}"#)
            return #"{"model":"\#(model)","max_tokens":9,"messages":\#(filled)}"#
        }
        let request = try Self.read(body(messages, model: "claude/x"))
        let sent = String(decoding: request.body(model: "x"), as: UTF8.self)
        #expect(sent == body(kept, model: "x"))
        #expect((try? JSONReader.validate(Array(sent.utf8))) != nil, "\(sent)")
    }

    @Test func conversationBecomesTheChatPathsRequest() throws {
        let request = try Self.read(
            """
            {"model":"m","max_tokens":64,"system":[{"type":"text","text":"one"},{"type":"text","text":"two"}],
             "stop_sequences":["END"],"temperature":0.2,"metadata":{"user_id":"u1"},
             "tools":[{"name":"get_time","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],
             "tool_choice":{"type":"tool","name":"get_time","disable_parallel_tool_use":true},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]},
               {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"ok"},
                 {"type":"tool_use","id":"toolu_1","name":"get_time","input":{"tz":"UTC"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12:00","is_error":true},{"type":"text","text":"and?"}]}]}
            """)
        let chat = request.chat
        #expect(chat.messages == [
            ChatMessage(role: .system, content: .text("one")),
            ChatMessage(role: .system, content: .text("two")),
            ChatMessage(role: .user, content: .parts([.text("hi"), .imageURL(url: "data:image/png;base64,AA==", detail: nil)])),
            ChatMessage(
                role: .assistant, content: .text("ok"),
                toolCalls: [ToolCall(id: "toolu_1", function: FunctionCall(name: "get_time", arguments: #"{"tz":"UTC"}"#))]),
            ChatMessage(role: .tool, content: .text("Error: 12:00"), toolCallID: "toolu_1"),
            ChatMessage(role: .user, content: .text("and?")),
        ])
        #expect(chat.tools?.map(\.name) == ["get_time"])
        #expect(chat.toolChoice == .function(name: "get_time"))
        #expect(chat.parallelToolCalls == false)
        #expect((chat.maxTokens, chat.stop, chat.temperature, chat.user) == (64, ["END"], 0.2, "u1"))
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#, "model: Field required"),
        (#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#, "max_tokens: Field required"),
        (#"{"model":"m","max_tokens":5,"messages":[]}"#, "messages: at least one message is required"),
        (#"{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#, "messages: role must be 'user' or 'assistant', not 'system'."),
    ])
    func badRequestsSayWhatIsWrong(body: String, message: String) {
        do {
            _ = try Self.read(body)
            Issue.record("read a bad request: \(body)")
        } catch {
            #expect((error as? AnthropicMessagesRequest.Problem)?.message == message)
        }
    }

    @Test func countTokensNeedsNoMaxTokens() throws {
        let request = try Self.read(#"{"model":"m","messages":[{"role":"user","content":"12345678"}]}"#, requireMaxTokens: false)
        #expect(request.estimatedInputTokens == 2)
    }

    static func chunk(_ delta: ChunkDelta, finish: FinishReason? = nil, stopSequence: String? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: "c", created: 0, model: "m", choices: [ChunkChoice(delta: delta, finishReason: finish, stopSequence: stopSequence)])
    }

    static func events(_ chunks: [ChatCompletionChunk], usage: Usage) -> [String] {
        var encoder = AnthropicEventEncoder(id: "msg_1", model: "m", inputTokens: 7)
        var out = encoder.start()
        for chunk in chunks { encoder.frames(for: chunk, into: &out) }
        encoder.end(usage: usage, into: &out)
        return String(decoding: out, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
    }

    @Test func textThenToolsGetDenseBlocksOneOpenAtATimeAndToolUse() {
        let events = Self.events(
            [
                Self.chunk(ChunkDelta(role: "assistant", content: "")),
                Self.chunk(ChunkDelta(content: "Hi")),
                Self.chunk(ChunkDelta(toolCalls: [ToolCallDelta(index: 0, id: "call_a", type: "function", function: .init(name: "f", arguments: #"{"a":1}"#))])),
                Self.chunk(ChunkDelta(toolCalls: [.start(index: 1, id: "call_b", name: "g")])),
                Self.chunk(ChunkDelta(), finish: .stop),
            ], usage: Usage(promptTokens: 30, completionTokens: 9, cachedTokens: 20))
        #expect(events == [
            #"event: message_start"# + "\n"
                + #"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":7,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}"#,
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            "event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":0}"#,
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_a","name":"f","input":{}}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#,
            "event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":1}"#,
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_b","name":"g","input":{}}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            "event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":2}"#,
            "event: message_delta\n"
                + #"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":10,"output_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":20}}"#,
            "event: message_stop\n" + #"data: {"type":"message_stop"}"#,
        ])
    }

    @Test(arguments: [(FinishReason.length, "max_tokens"), (.stop, "end_turn"), (.contentFilter, "refusal"), (.toolCalls, "tool_use")])
    func finishReasonsBecomeStopReasons(finish: FinishReason, stopReason: String) {
        let events = Self.events([Self.chunk(ChunkDelta(content: "x"), finish: finish)], usage: Usage(promptTokens: 1, completionTokens: 1))
        #expect(events[events.count - 2].contains(#""stop_reason":"\#(stopReason)""#))
    }

    /// A known stop sequence is `stop_reason: "stop_sequence"` with its string, streamed and not; `stop` without one
    /// (OpenAI and Ollama never say which matched) stays `end_turn` with `stop_sequence: null`.
    @Test(arguments: [("END" as String?, #""stop_reason":"stop_sequence","stop_sequence":"END""#), (nil, #""stop_reason":"end_turn","stop_sequence":null"#)])
    func stopSequenceIsReportedOnlyWhenKnown(sequence: String?, expected: String) {
        let events = Self.events(
            [Self.chunk(ChunkDelta(content: "x")), Self.chunk(ChunkDelta(), finish: .stop, stopSequence: sequence)],
            usage: Usage(promptTokens: 1, completionTokens: 1))
        #expect(events[events.count - 2].contains(expected))
        let completion = ChatCompletion(
            id: "c", created: 0, model: "m", choices: [ChatChoice(message: AssistantMessage(content: "x"), finishReason: .stop, stopSequence: sequence)],
            usage: nil)
        let json = String(decoding: AnthropicMessagesAnswer.encode(completion, id: "msg_x", usage: Usage(promptTokens: 1, completionTokens: 1)), as: UTF8.self)
        #expect(json.contains(expected))
        // Never on the OpenAI wire.
        var w = JSONWriter()
        completion.write(to: &w)
        #expect(!w.string.contains("END") && !w.string.contains("stop_sequence"))
    }

    /// Reasoning becomes a thinking block that comes first, with `thinking_delta`s only and our marker in a
    /// `signature_delta` before its stop; a delta that carries the last thinking and the first text gives both, in
    /// their own blocks (LiteLLM #32357, #33224, #29518). Plain answers get the same block first.
    @Test func reasoningBecomesAThinkingBlockFirstWithOurMarker() {
        let events = Self.events(
            [
                Self.chunk(ChunkDelta(role: "assistant", reasoningContent: "Hm")),
                Self.chunk(ChunkDelta(content: "Hi", reasoningContent: ".")),
                Self.chunk(ChunkDelta(content: "!"), finish: .stop),
            ], usage: Usage(promptTokens: 3, completionTokens: 5))
        #expect(Array(events[1..<9]) == [
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hm"}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"."}}"#,
            "event: content_block_delta\n"
                + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"aggregator:unsigned-thinking"}}"#,
            "event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":0}"#,
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#,
            "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"!"}}"#,
        ])
        let completion = ChatCompletion(
            id: "c", created: 0, model: "m",
            choices: [ChatChoice(message: AssistantMessage(content: "Hi!", reasoningContent: "Hm."), finishReason: .stop)], usage: nil)
        let json = String(decoding: AnthropicMessagesAnswer.encode(completion, id: "msg_x", usage: Usage(promptTokens: 3, completionTokens: 5)), as: UTF8.self)
        #expect(json.contains(#""content":[{"type":"thinking","thinking":"Hm.","signature":"aggregator:unsigned-thinking"},{"type":"text","text":"Hi!"}]"#))
    }

    @Test(arguments: [
        (#""thinking":{"type":"enabled","budget_tokens":1024}"#, "low"),
        (#""thinking":{"type":"enabled","budget_tokens":2048}"#, "medium"),
        (#""thinking":{"type":"enabled","budget_tokens":4096}"#, "high"),
        (#""thinking":{"type":"adaptive"}"#, "medium"),
        (#""thinking":{"type":"adaptive"},"output_config":{"effort":"low"}"#, "low"),
        (#""thinking":{"type":"enabled","budget_tokens":1024},"output_config":{"effort":"max"}"#, "high"),
        (#""thinking":{"type":"disabled"},"output_config":{"effort":"high"}"#, nil),
        (#""output_config":{"effort":"high"}"#, nil),
    ] as [(String, String?)])
    func thinkingBecomesReasoningEffort(fields: String, effort: String?) throws {
        let request = try Self.read(#"{"model":"m","max_tokens":8000,"messages":[{"role":"user","content":"hi"}],"# + fields + "}")
        #expect(request.chat.reasoningEffort == effort)
    }

    @Test func answerCarriesTextThenToolsAndAnthropicUsage() throws {
        var completion = ChatCompletion(
            id: "c", created: 0, model: "gpt",
            choices: [ChatChoice(message: AssistantMessage(content: "Sure.", toolCalls: [
                ToolCall(id: "call_1", function: FunctionCall(name: "f", arguments: "")),
            ]), finishReason: .stop)],
            usage: nil)
        completion.usage = Usage(promptTokens: 10, completionTokens: 3, cachedTokens: 4, cacheWriteTokens: 2)
        let json = String(decoding: AnthropicMessagesAnswer.encode(completion, id: "msg_x", usage: completion.usage!), as: UTF8.self)
        #expect(json == #"{"id":"msg_x","type":"message","role":"assistant","model":"gpt","content":[{"type":"text","text":"Sure."},{"type":"tool_use","id":"call_1","name":"f","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":4,"output_tokens":3,"cache_creation_input_tokens":2,"cache_read_input_tokens":4}}"#)
    }
}
