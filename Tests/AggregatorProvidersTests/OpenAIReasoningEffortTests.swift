import AggregatorWire
import Testing

@testable import AggregatorProviders

/// A `reasoning_effort` the gateway derived from the Messages API's `thinking` goes only to OpenAI models that take
/// it (the others answer 400, and Claude Code asks for thinking on every request); one the client sent is untouched.
@Suite struct OpenAIReasoningEffortTests {
    @Test(arguments: [
        ("o1", true), ("o3-mini", true), ("o4-mini-2025-04-16", true), ("openai/o3", true), ("gpt-5", true), ("gpt-5-mini", true),
        ("gpt-oss-120b", true), ("gpt-5-chat-latest", false), ("gpt-4o-mini", false), ("gpt-4.1", false), ("o1x", false),
        ("omni-moderation-latest", false), ("", false),
    ])
    func models(model: String, takes: Bool) {
        #expect(OpenAIProvider.takesReasoningEffort(model) == takes)
    }

    @Test func onlyTheDerivedEffortIsLeftOut() {
        var chat = ChatCompletionRequest(model: "gpt-4o-mini", messages: [ChatMessage(role: .user, content: .text("hi"))])
        chat.reasoningEffort = "high"
        #expect(OpenAIProvider.plainBody(chat).reasoningEffort == "high", "the client's own goes through")
        chat.reasoningEffortIsTranslated = true
        #expect(OpenAIProvider.plainBody(chat).reasoningEffort == nil)
        #expect(OpenAIProvider.streamingBody(chat).reasoningEffort == nil)
        chat.model = "o4-mini"
        #expect(OpenAIProvider.streamingBody(chat).reasoningEffort == "high")
    }
}
