/// What we know about Claude models without asking the API.
enum ClaudeModels {
    /// Served by `listModels()` when the upstream has no `GET /v1/models` (404), e.g. an Anthropic-shaped proxy.
    static let known = [
        "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929",
        "claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514",
        "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-3-haiku-20240307",
    ]

    /// Largest output per model family, longest prefix first (Anthropic's model overview).
    private static let maxOutput: [(prefix: String, tokens: Int)] = [
        ("claude-opus-4-5", 64000), ("claude-opus-4", 32000), ("claude-sonnet-4", 64000),
        ("claude-haiku-4", 64000), ("claude-3-7-sonnet", 64000), ("claude-3-5-haiku", 8192),
        ("claude-3-5-sonnet", 8192), ("claude-3-haiku", 4096), ("claude-3-opus", 4096),
    ]

    /// The model's largest `max_tokens`, if we know the model.
    static func maxOutputTokens(_ model: String) -> Int? {
        maxOutput.first { model.hasPrefix($0.prefix) }?.tokens
    }
}
