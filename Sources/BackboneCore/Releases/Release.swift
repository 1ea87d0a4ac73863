import Aggregation
import Foundation

/// A period of an agenda, published: what partner and viewer keys read (docs/privacy.md).
public struct Release: Sendable {
    /// What a report names of each release it was cut from.
    public struct Stamp: Sendable, Hashable {
        public var id: Int
        public var period: String
        public var revision: Int
        public var releasedAt: Date
    }

    /// One indicator's part of a release.
    public struct Coverage: Sendable {
        public var indicator: String
        /// The indicator's native periods the release covers.
        public var periods: [String]
        /// The non-empty cells of their protected grids, and how many of them are withheld.
        public var cells: Int
        public var withheld: Int
    }

    public var id: Int
    public var agenda: String
    public var period: String
    /// 1 for a period's first release, then 2, 3… for each revision.
    public var revision: Int
    /// Whether it was made because the period had ended `release_after_days` ago, not by the coordinator.
    public var automatic: Bool
    public var releasedAt: Date
    public var indicators: [Coverage]
}
