/// Why a submitted value looks wrong without being invalid: a validation rule its cell
/// violates, or a value far from its series' own history (docs/quality.md). A warning on a
/// stored value becomes a flag.
public struct QualityWarning: Sendable, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case ruleViolated = "rule-violated"
        case outlier
    }

    /// The submission's row (1-based, as errors count rows); nil outside a submission.
    public var row: Int?
    /// In an uploaded file, the spreadsheet line of the row.
    public var line: Int?
    /// The field the warning concerns (`value`, `numerator`, …).
    public var field: String
    public var code: Code
    public var message: String
    /// The rule violated (for `rule-violated`).
    public var rule: String?
    /// How far the value lies from its history, in robust deviations (for `outlier`).
    public var score: Double?
    /// The range the history expected (for `outlier`).
    public var expected: ClosedRange<Double>?

    public init(
        row: Int?, field: String, code: Code, message: String, rule: String? = nil, score: Double? = nil,
        expected: ClosedRange<Double>? = nil
    ) {
        self.row = row
        self.field = field
        self.code = code
        self.message = message
        self.rule = rule
        self.score = score
        self.expected = expected
    }
}
