import Foundation

/// What a submission did (or, in a dry run, would do).
public struct ImportSummary: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case dryRun = "dry_run"
        case mode, received, created, updated, unchanged, rejected, errors
    }

    /// At most this many `errors` are listed; `error_count` gives the full number.
    public static let maxListedErrors = 200

    private enum CountKeys: String, CodingKey {
        case errorCount = "error_count"
        case errorsTruncated = "errors_truncated"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(batchID, forKey: .batchID)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(mode, forKey: .mode)
        try container.encode(received, forKey: .received)
        try container.encode(created, forKey: .created)
        try container.encode(updated, forKey: .updated)
        try container.encode(unchanged, forKey: .unchanged)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(Array(errors.prefix(Self.maxListedErrors)), forKey: .errors)
        var counts = encoder.container(keyedBy: CountKeys.self)
        try counts.encode(errors.count, forKey: .errorCount)
        if errors.count > Self.maxListedErrors { try counts.encode(true, forKey: .errorsTruncated) }
    }
}
