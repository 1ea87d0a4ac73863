/// How a rule compares its two sides (raw values are the wire spellings).
public enum RuleOperator: String, Sendable, CaseIterable {
    case less = "<"
    case lessOrEqual = "<="
    case equal = "=="
    case notEqual = "!="
    case greaterOrEqual = ">="
    case greater = ">"
    /// Both sides reported, or neither.
    case compulsoryPair = "compulsory_pair"
    /// Not both sides reported.
    case exclusivePair = "exclusive_pair"

    /// Whether it looks only at which sides have data, not at their values.
    public var isPair: Bool { self == .compulsoryPair || self == .exclusivePair }
}

/// When a comparison is evaluated although terms have no data (docs/quality.md).
public enum MissingValueStrategy: String, Sendable, CaseIterable {
    /// Not evaluated when any term is missing.
    case skipIfAnyMissing = "skip_if_any_missing"
    /// Evaluated unless every term is missing, a missing term counting as 0.
    case skipIfAllMissing = "skip_if_all_missing"
    /// Always evaluated, a missing term counting as 0.
    case neverSkip = "never_skip"
}

/// How much a violation matters to the people who follow flags up.
public enum RuleImportance: String, Sendable, CaseIterable {
    case high, medium, low
}

/// What a violation does to the rows of a submission.
public enum RuleAction: String, Sendable, CaseIterable {
    /// The rows are stored; the submission is warned.
    case warn
    /// Each row the rule reads is an error `rule-violated`.
    case reject
}
