import Foundation

/// What a submission did (or, in a dry run, would do).
public struct ImportSummary: Sendable, Equatable, JSONRepresentable {
    /// Lowercase UUID shared by every row this submission wrote.
    public var batchID: String
    public var dryRun: Bool
    public var mode: String
    public var received: Int
    public var created: Int
    public var updated: Int
    public var unchanged: Int
    public var rejected: Int
    public var errors: [DomainError.Issue]

    /// At most this many `errors` are listed; `error_count` gives the full number.
    public static let maxListedErrors = 200

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "batch_id": .string(batchID), "dry_run": .bool(dryRun), "mode": .string(mode), "received": JSONValue(received),
            "created": JSONValue(created), "updated": JSONValue(updated), "unchanged": JSONValue(unchanged),
            "rejected": JSONValue(rejected), "errors": .array(errors.prefix(Self.maxListedErrors).map(\.json)),
            "error_count": JSONValue(errors.count),
        ]
        if errors.count > Self.maxListedErrors { members["errors_truncated"] = .bool(true) }
        return .object(members)
    }
}

extension DomainError.Issue: JSONRepresentable {
    /// `row` and `line` appear only when known.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["field": .string(field), "code": .string(code), "message": .string(message)]
        if let row { members["row"] = JSONValue(row) }
        if let line { members["line"] = JSONValue(line) }
        return .object(members)
    }
}
