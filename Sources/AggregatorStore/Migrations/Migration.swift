/// One schema change, as `NNNNNN_name.up.sql` / `.down.sql` in `Migrations/<dialect>/` (golang-migrate's
/// layout). The binary carries them (see `EmbeddedMigrations.swift`).
public struct Migration: Sendable, Hashable {
    public var version: Int64
    public var name: String
    public var up: String
    public var down: String

    public init(version: Int64, name: String, up: String, down: String) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
    }

    public static var embeddedSQLite: [Migration] { sqlite }
    public static var embeddedPostgres: [Migration] { postgres }

    /// The statements of a migration file, split at semicolons that end a line (our migrations keep each
    /// statement's terminating `;` at a line end and never put one inside a string literal).
    public static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") { continue }
            current += line + "\n"
            if trimmed.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case dirty(version: Int64)
    case schemaTooOld(current: Int64, expected: Int64)
    case unknownVersion(Int64)

    public var description: String {
        switch self {
        case .dirty(let v):
            "the database schema is dirty at version \(v): a migration failed half-way; fix it by hand, then force the version"
        case .schemaTooOld(let current, let expected):
            "the database schema is at version \(current) but this binary needs \(expected): run `aggregator migrate`"
        case .unknownVersion(let v): "the database schema is at version \(v), which this binary does not know"
        }
    }
}

import Foundation
