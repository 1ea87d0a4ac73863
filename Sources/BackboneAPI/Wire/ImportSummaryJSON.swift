import BackboneCore
import HTTPServer
import JSON

extension ImportSummary: JSONRepresentable {
    /// `errors` is listed as a problem document lists them (at most
    /// `Problem.maxListedErrors`, with `error_count`), but always present.
    public var json: JSONValue {
        var members = Problem.listing(errors)
        members.merge([
            "batch_id": .string(batchID), "dry_run": .bool(dryRun), "mode": .string(mode),
            "received": JSONValue(received),
            "created": JSONValue(created), "updated": JSONValue(updated), "unchanged": JSONValue(unchanged),
            "rejected": JSONValue(rejected),
        ]) { listed, _ in listed }
        return .object(members)
    }
}
