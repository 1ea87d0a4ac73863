import BackboneCore
import DataQuality
import HTTPServer
import JSON

extension ImportSummary: JSONRepresentable {
    /// `errors` is listed as a problem document lists them (at most
    /// `Problem.maxListedErrors`, with `error_count`), but always present; `warnings` the same
    /// way, with `warning_count` and `warnings_truncated`.
    public var json: JSONValue {
        var members = Problem.listing(errors)
        members.merge([
            "batch_id": .string(batchID), "dry_run": .bool(dryRun), "mode": .string(mode),
            "received": JSONValue(received),
            "created": JSONValue(created), "updated": JSONValue(updated), "unchanged": JSONValue(unchanged),
            "rejected": JSONValue(rejected),
            "warnings": .array(warnings.prefix(Problem.maxListedErrors).map(\.json)),
            "warning_count": JSONValue(warnings.count),
        ]) { listed, _ in listed }
        if warnings.count > Problem.maxListedErrors { members["warnings_truncated"] = .bool(true) }
        return .object(members)
    }
}

extension QualityWarning: JSONRepresentable {
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "field": .string(field), "code": .string(code.rawValue), "message": .string(message),
        ]
        if let row { members["row"] = JSONValue(row) }
        if let line { members["line"] = JSONValue(line) }
        if let rule { members["rule"] = .string(rule) }
        if let score { members["score"] = JSONValue(score) }
        if let expected {
            members["expected"] = .object([
                "low": JSONValue(expected.lowerBound), "high": JSONValue(expected.upperBound),
            ])
        }
        return .object(members)
    }
}
