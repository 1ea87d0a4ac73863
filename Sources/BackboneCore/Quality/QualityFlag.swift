import Aggregation
import Foundation

/// A warning on a stored value, kept until someone closes it (docs/quality.md#flags).
public struct QualityFlag: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case outlier
        case rule
    }

    public enum Status: String, Sendable, CaseIterable {
        /// Found, nobody has answered yet.
        case open
        /// The partner (or the coordinator) said why the value is what it is; still standing.
        case explained
        /// The coordinator says the value stands: closed.
        case confirmed
        /// The value changed (or was retracted) and no longer warns: closed by the service.
        case corrected

        /// Open and explained flags still stand; the others are closed.
        public var isStanding: Bool { self == .open || self == .explained }
    }

    /// One entry of a flag's trail.
    public struct Change: Sendable {
        public var status: Status
        public var note: String?
        /// The key that made the change; nil when the service closed the flag itself.
        public var key: String?
        public var at: Date
    }

    public var id: Int
    public var measurement: Int
    public var partner: String
    public var indicator: String
    public var neighborhood: String
    public var period: String
    public var kind: Kind
    public var rule: String?
    public var score: Double?
    public var expected: ClosedRange<Double>?
    public var message: String
    public var status: Status
    public var note: String?
    public var openedAt: Date
    public var updatedAt: Date
    public var history: [Change]
}
