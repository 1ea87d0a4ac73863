import DataQuality
import Foundation

/// What a submission did (or, in a dry run, would do).
public struct ImportSummary: Sendable, Equatable {
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
    /// Rule violations and outliers on rows that were accepted (or, in a dry run, would be).
    public var warnings: [QualityWarning] = []
}
