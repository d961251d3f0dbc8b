import AggregatorWire
import Foundation
import Testing

/// The fast request reader against the reference `Decodable` path: whatever the fast path accepts, the
/// reference accepts with an equal value; the bodies clients send are all taken by the fast path.
@Suite struct RequestReadingTests {
    static func fast(_ text: String) -> ChatCompletionRequest? {
        try? JSONReader.decode(ChatCompletionRequest.self, from: Array(text.utf8))
    }

    static func reference(_ text: String) -> ChatCompletionRequest? {
        try? JSONDecoder().decode(ChatCompletionRequest.self, from: Data(text.utf8))
    }

    static let accepted = [
        ChatRequestWireTests.full,
        #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi","name":"ann"}],"stream":true,"stream_options":{"include_usage":false}}"#,
        #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b"],"temperature":1,"top_p":0.25,"max_tokens":10.0,"seed":null}"#,
        #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":null,"tools":null,"tool_choice":"auto","user":null}"#,
        #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"required","tools":[{"function":{"name":"f"}}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"f"}}]}}}"#,
        #"{"model":"m","messages":[{"role":"assistant","content":"x","refusal":null,"tool_calls":null},{"role":"function","name":"f","content":"r"}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"http://x/y.png"},{"type":"refusal","refusal":"no"}]}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":"\u00e9\ud83d\ude00 \"quoted\"\n"}],"extra_body":{"nested":[1,2.5,true,null,"s"]},"n":1}"#,
        #"{"messages":[{"content":"late role","role":"user"}],"model":"m","unknown":null}"#,
    ]

    @Test(arguments: accepted) func theFastPathTakesClientBodiesAndAgrees(_ text: String) throws {
        let fast = try #require(Self.fast(text))
        #expect(fast == Self.reference(text))
    }

    static let refused = [
        "", "[]", "null", #"{"model":"m"}"#, #"{"messages":[]}"#, #"{"model":1,"messages":[]}"#,
        #"{"model":"m","messages":[{"content":"no role"}]}"#,
        #"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":5}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":[{"text":"no type"}]}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"detail":"low"}}]}]}"#,
        #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":null}}]}]}"#,
        #"{"model":"m","messages":[],"temperature":"hot"}"#, #"{"model":"m","messages":[],"max_tokens":1.5}"#,
        #"{"model":"m","messages":[],"stream":"yes"}"#, #"{"model":"m","messages":[],"stop":[1]}"#, #"{"model":"m","messages":[],"stop":3}"#,
        #"{"model":"m","messages":[],"tool_choice":"sometimes"}"#, #"{"model":"m","messages":[],"tool_choice":{"type":"function"}}"#,
        #"{"model":"m","messages":[],"tools":[{"type":"function"}]}"#, #"{"model":"m","messages":[],"tools":[{"function":{"description":"x"}}]}"#,
        #"{"model":"m","messages":[],"stream_options":true}"#, #"{"model":"m","messages":[],"temperature":1e400}"#,
        #"{"model":"m","messages":[{"role":"user","content":"\ud800"}]}"#, #"{"model":"m","messages":[]} trailing"#,
    ]

    @Test(arguments: refused) func theFastPathRefusesWhatTheReferenceRefuses(_ text: String) {
        #expect(Self.fast(text) == nil)
        #expect(Self.reference(text) == nil)
    }

    @Test func extraFieldsKeepTheOrderTheClientSentThem() throws {
        let request = try #require(Self.fast(#"{"model":"m","messages":[],"zeta":1,"alpha":2,"metadata":{"b":1,"a":2}}"#))
        #expect(Array(request.extra.keys) == ["zeta", "alpha", "metadata"])
        #expect(request.extra["metadata"]?.jsonText == #"{"b":1,"a":2}"#)
    }
}
