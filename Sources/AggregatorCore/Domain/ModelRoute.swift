import Foundation

/// An alias clients put in `model`, mapped to an ordered list of `provider/model` targets.
public struct ModelRoute: Sendable, Hashable {
    public var alias: String
    public var targets: [String]

    public init(alias: String, targets: [String]) {
        self.alias = alias
        self.targets = targets
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self {
            case .malformed(let part): "expected alias=provider/model[,provider/model…] but found '\(part)'"
            }
        }
    }

    /// Parses `MODEL_ROUTES`: `alias=provider/model,provider/model;alias2=provider/model`.
    public static func parseList(_ text: String) throws -> [ModelRoute] {
        try text.split(separator: ";").compactMap { raw in
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { return nil }
            let pieces = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, !pieces[0].isEmpty else { throw ParseError.malformed(part) }
            let targets = pieces[1].split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard !targets.isEmpty, targets.allSatisfy({ ModelTarget(parsing: $0) != nil }) else { throw ParseError.malformed(part) }
            return ModelRoute(alias: pieces[0], targets: targets)
        }
    }
}

/// `provider/model`.
public struct ModelTarget: Sendable, Hashable, CustomStringConvertible {
    public var provider: String
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    public init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let provider = String(text[..<slash])
        let model = String(text[text.index(after: slash)...])
        guard !provider.isEmpty, !model.isEmpty else { return nil }
        self.provider = provider
        self.model = model
    }

    public var description: String { "\(provider)/\(model)" }
}
