import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Non-streamed calls through `OllamaProvider`, and the translation of requests to `/api/chat`.
@Suite struct OllamaProviderTests {
    static let ask = #"{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}]}"#

    func provider(_ harness: UpstreamHarness) -> OllamaProvider {
        OllamaProvider(http: harness.http, baseURL: harness.upstream.baseURL + "/")
    }

    @Test func plainTextAnswer() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-text.json") }) { harness in
            let completion = try await provider(harness).complete(try providerRequest(Self.ask, id: "r7"))
            #expect(harness.upstream.requests.last?.method == "POST")
            #expect(harness.upstream.requests.last?.path == "/api/chat")
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(
                #"{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":false}"#))
            return completion
        }
        #expect(completion == ChatCompletion(
            id: "chatcmpl-r7", created: completion.created, model: "llama3.2",
            choices: [ChatChoice(message: AssistantMessage(content: "The sky is blue."), finishReason: .stop)],
            usage: Usage(promptTokens: 26, completionTokens: 6)))
        #expect(abs(completion.created - Int(Date().timeIntervalSince1970)) < 60)
    }

    @Test func singleToolCallKeepsOllamasIdAndStringifiesArguments() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-tool-call.json") }) { harness in
            try await provider(harness).complete(try providerRequest(Self.ask))
        }
        let choice = try #require(completion.choices.first)
        #expect(choice.message.content == nil)
        #expect(choice.message.toolCalls == [
            ToolCall(id: "call_ab12cd34", function: FunctionCall(name: "get_weather", arguments: #"{"city":"Tokyo"}"#)),
        ])
        #expect(choice.finishReason == .toolCalls)
        #expect(completion.usage == Usage(promptTokens: 171, completionTokens: 18))
    }

    /// The arguments object becomes a string with its keys in the order the model wrote them, nested ones too.
    @Test func toolArgumentsKeepTheModelsKeyOrder() async throws {
        let answer = #"""
            {"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"book",\#
            "arguments":{"zeta":1,"alpha":{"y":2,"b":[3,"é"]},"mid":"x","a":null}}}]},"done":true,"done_reason":"stop",\#
            "prompt_eval_count":5,"eval_count":7}
            """#
        let completion = try await UpstreamHarness.run({ _ in .json(answer) }) { harness in
            try await provider(harness).complete(try providerRequest(Self.ask))
        }
        #expect(completion.choices.first?.message.toolCalls?.first?.function.arguments == #"{"zeta":1,"alpha":{"y":2,"b":[3,"é"]},"mid":"x","a":null}"#)
    }

    @Test func twoParallelToolCallsWithoutIdsGetDistinctMintedIds() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-parallel-tool-calls.json") }) { harness in
            try await provider(harness).complete(try providerRequest(Self.ask))
        }
        let calls = try #require(completion.choices.first?.message.toolCalls)
        #expect(calls.map(\.function) == [
            FunctionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#),
            FunctionCall(name: "get_time", arguments: #"{"tz":"Europe/Paris"}"#),
        ])
        #expect(calls.allSatisfy { $0.id.wholeMatch(of: /call_[A-Za-z0-9]{24}/) != nil })
        #expect(Set(calls.map(\.id)).count == 2)
        #expect(completion.choices.first?.finishReason == .toolCalls)
    }

    /// A whole tool loop as history: system, a user turn with an image, the assistant's two calls (one without
    /// arguments) and both results, with every sampling option the client set.
    @Test func toolLoopHistoryBecomesThisExactOllamaRequest() async throws {
        let history = #"""
            {"model":"llama3.2","stream":false,"messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":[{"type":"text","text":"What is in this picture,"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":"and the weather in Paris?"}]},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_A1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_B2","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_A1","content":"{\"temp_c\":18}"},
              {"role":"tool","tool_call_id":"call_B2","content":[{"type":"text","text":"14:05"}]}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},
                      {"type":"function","function":{"name":"get_time"}}],
             "tool_choice":"auto","parallel_tool_calls":true,"temperature":0.2,"top_p":0.9,"max_tokens":256,"stop":"\n\n","seed":7,
             "presence_penalty":0.5,"frequency_penalty":0.25,"response_format":{"type":"json_object"},"n":1,"user":"u-1"}
            """#
        let expected = #"""
            {"model":"llama3.2","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":"What is in this picture,\nand the weather in Paris?","images":["iVBORw0KGgo="]},
              {"role":"assistant","content":"","tool_calls":[
                {"id":"call_A1","function":{"name":"get_weather","arguments":{"city":"Paris"}}},
                {"id":"call_B2","function":{"name":"get_time","arguments":{}}}]},
              {"role":"tool","content":"{\"temp_c\":18}","tool_name":"get_weather","tool_call_id":"call_A1"},
              {"role":"tool","content":"14:05","tool_name":"get_time","tool_call_id":"call_B2"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
                      {"type":"function","function":{"name":"get_time"}}],
             "stream":false,"format":"json",
             "options":{"num_predict":256,"temperature":0.2,"top_p":0.9,"seed":7,"stop":["\n\n"],"presence_penalty":0.5,"frequency_penalty":0.25}}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-text.json") }) { harness in
            _ = try await provider(harness).complete(try providerRequest(history))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(expected))
        }
    }

    struct OptionCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Fields added to a one-message request.
        var client: String
        /// Fields expected next to `model`, `messages` and `stream` in the Ollama request.
        var ollama: String
    }

    static let optionCases: [OptionCase] = [
        OptionCase(testDescription: "max_completion_tokens wins", client: #""max_tokens":10,"max_completion_tokens":20"#, ollama: #""options":{"num_predict":20}"#),
        OptionCase(testDescription: "stop list", client: #""stop":["a","b"]"#, ollama: #""options":{"stop":["a","b"]}"#),
        OptionCase(testDescription: "text format", client: #""response_format":{"type":"text"}"#, ollama: ""),
        OptionCase(
            testDescription: "json_schema",
            client: #""response_format":{"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object","properties":{"c":{"type":"string"}}}}}"#,
            ollama: #""format":{"type":"object","properties":{"c":{"type":"string"}}}"#),
        OptionCase(testDescription: "tool_choice none drops tools",
                   client: #""tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none""#, ollama: ""),
        OptionCase(testDescription: "named tool_choice narrows tools",
                   client: #""tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}],"tool_choice":{"type":"function","function":{"name":"g"}}"#,
                   ollama: #""tools":[{"type":"function","function":{"name":"g"}}]"#),
    ]

    @Test(arguments: optionCases)
    func optionsMapping(_ option: OptionCase) async throws {
        let message = #""model":"llama3.2","messages":[{"role":"user","content":"hi"}]"#
        try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-text.json") }) { harness in
            _ = try await provider(harness).complete(try providerRequest("{\(message),\(option.client)}"))
            let extra = option.ollama.isEmpty ? "" : "," + option.ollama
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON("{\(message),\"stream\":false\(extra)}"))
        }
    }

    @Test(arguments: [
        #"{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}"#,
        #"{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}"#,
    ])
    func contentOllamaCannotTakeIsRefusedBeforeSending(_ part: String) async throws {
        let request = #"{"model":"llava","messages":[{"role":"user","content":[{"type":"text","text":"what?"},\#(part)]}]}"#
        try await UpstreamHarness.run({ _ in try! Replay.json("ollama/chat-text.json") }) { harness in
            var thrown: (any Error)?
            do { _ = try await provider(harness).complete(try providerRequest(request)) } catch { thrown = error }
            guard case .status(400, _, "invalid_request_error", _, "messages", _)? = thrown as? UpstreamError else {
                Issue.record("expected a 400, got \(String(describing: thrown))")
                return
            }
            #expect(harness.upstream.requests.isEmpty)
        }
    }

    @Test func listModelsFromTags() async throws {
        let models = try await UpstreamHarness.run({ _ in try! Replay.json("ollama/tags.json") }) { harness in
            let models = try await provider(harness).listModels()
            #expect(harness.upstream.requests.last?.method == "GET")
            #expect(harness.upstream.requests.last?.path == "/api/tags")
            return models
        }
        #expect(models == ["llama3.2:latest", "qwen3:8b"])
    }
}
