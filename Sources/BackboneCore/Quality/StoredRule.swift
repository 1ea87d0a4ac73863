import Aggregation
import DataQuality
import Foundation

/// A validation rule as the registry keeps it: the rule, its sides as written, and the
/// period type its indicators share (settled by the checks against the registry).
public struct StoredRule: Sendable, Equatable {
    public var rule: ValidationRule
    /// `left` as the coordinator wrote it; it parses to `rule.left`.
    public var leftText: String
    /// `right` as written; it parses to `rule.right`.
    public var rightText: String
    public var periodType: PeriodType
    public var createdAt: Date
    public var updatedAt: Date

    public var id: String { rule.id }
}

/// What a create or an update of a rule sets: the fields it names, `nil` for those it
/// leaves as they are. `left` and `right` are the expressions' text.
public struct RuleFields: Sendable, Equatable {
    public var id: String?
    public var agenda: String?
    public var name: String?
    public var left: String?
    public var `operator`: RuleOperator?
    public var right: String?
    public var importance: RuleImportance?
    public var action: RuleAction?
    public var missing: MissingValueStrategy?
    public var active: Bool?

    public init() {}
}

/// One change of a rule: what was done, by which key, when, and the rule after the change.
public struct RuleChange: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        case created, updated, deleted
    }

    /// The entry's place in the history (its cursor).
    public var id: Int
    public var action: Action
    public var keyID: String
    public var at: Date
    public var rule: StoredRule
}
