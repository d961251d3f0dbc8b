/// Makes tool names and ids fit Anthropic's character set (`^[a-zA-Z0-9_-]+$`, names at most 128 long)
/// and remembers the originals, so answers can carry the client's names again (WIRE §2.7 rules 7–8, §5.11).
///
/// Valid identifiers pass unchanged. Others have each invalid character replaced by `_`; if that collides
/// with an identifier already in use, a counter is appended. The same original always maps to the same
/// result within one request.
struct ClaudeIdentifierMap: Sendable {
    let maxLength: Int?
    private var forward: [String: String] = [:]
    private var reverse: [String: String] = [:]

    init(maxLength: Int?) { self.maxLength = maxLength }

    /// Registers identifiers that must keep their own spelling (valid ones), before any sanitizing, so a
    /// sanitized name never takes a valid name's place.
    mutating func reserve(_ originals: some Sequence<String>) {
        for original in originals where isValid(original) && forward[original] == nil {
            forward[original] = original
            reverse[original] = original
        }
    }

    mutating func sanitized(_ original: String) -> String {
        if let known = forward[original] { return known }
        var candidate: String
        if isValid(original) {
            candidate = original
        } else {
            let replaced = String(original.unicodeScalars.map { Self.allowed($0) ? Character($0) : "_" })
            candidate = replaced.isEmpty ? "_" : String(replaced.prefix(maxLength ?? Int.max))
            var counter = 2
            let base = candidate
            while reverse[candidate] != nil {
                let suffix = "_\(counter)"
                candidate = String(base.prefix((maxLength ?? Int.max) - suffix.count)) + suffix
                counter += 1
            }
        }
        forward[original] = candidate
        reverse[candidate] = original
        return candidate
    }

    /// The client's spelling of an identifier the upstream used; unknown identifiers come back unchanged.
    func original(_ sanitized: String) -> String { reverse[sanitized] ?? sanitized }

    private func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.count <= (maxLength ?? Int.max) && s.unicodeScalars.allSatisfy(Self.allowed)
    }

    private static func allowed(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-": true
        default: false
        }
    }
}
