/// A coordinator's check across indicators (`completed <= enrolled`), evaluated for each
/// partner, neighborhood and period a submission touches (docs/quality.md, "Validation rules").
public struct ValidationRule: Sendable, Equatable {
    public var id: String
    public var agenda: String
    public var name: String
    public var left: RuleExpression
    public var `operator`: RuleOperator
    public var right: RuleExpression
    public var importance: RuleImportance
    public var action: RuleAction
    public var missing: MissingValueStrategy
    public var active: Bool

    public init(
        id: String, agenda: String, name: String, left: RuleExpression, operator: RuleOperator,
        right: RuleExpression, importance: RuleImportance = .medium, action: RuleAction = .warn,
        missing: MissingValueStrategy = .skipIfAnyMissing, active: Bool = true
    ) {
        self.id = id
        self.agenda = agenda
        self.name = name
        self.left = left
        self.operator = `operator`
        self.right = right
        self.importance = importance
        self.action = action
        self.missing = missing
        self.active = active
    }

    /// The indicators either side reads.
    public var indicators: Set<String> { left.indicators.union(right.indicators) }

    /// Two values are equal when they differ by at most this fraction of the larger magnitude
    /// (or of 1, for magnitudes below 1): sums of decimal values (0.1 + 0.2) are not exact in
    /// binary, and a rule must not flag that noise. No measured quantity here is that precise.
    public static let relativeTolerance = 1e-9

    /// The rule over one cell's rows.
    public func evaluate(in cell: RuleCell) -> RuleOutcome {
        let leftValues = left.terms.map(cell.value(of:))
        let rightValues = right.terms.map(cell.value(of:))
        if `operator`.isPair {
            let leftPresent = leftValues.contains { $0 != nil }
            let rightPresent = rightValues.contains { $0 != nil }
            let violated = `operator` == .compulsoryPair ? leftPresent != rightPresent : leftPresent && rightPresent
            guard violated else { return .holds }
            return .violated(
                left: leftPresent ? Self.total(left, leftValues) : nil,
                right: rightPresent ? Self.total(right, rightValues) : nil)
        }
        let all = leftValues + rightValues
        switch missing {
        case .skipIfAnyMissing: if all.contains(where: { $0 == nil }) { return .skipped }
        case .skipIfAllMissing: if !all.isEmpty && all.allSatisfy({ $0 == nil }) { return .skipped }
        case .neverSkip: break
        }
        let leftValue = Self.total(left, leftValues)
        let rightValue = Self.total(right, rightValues)
        return Self.compare(leftValue, `operator`, rightValue) ? .holds : .violated(left: leftValue, right: rightValue)
    }

    /// What a violation means in words: `completed (130) must be <= enrolled (120)`.
    public func message(left leftValue: Double?, right rightValue: Double?) -> String {
        func side(_ expression: RuleExpression, _ value: Double?) -> String {
            let text = expression.description
            guard !expression.terms.isEmpty else { return text }
            return "\(text) (\(value.map(RuleExpression.spelled) ?? "missing"))"
        }
        let leftText = side(left, leftValue)
        let rightText = side(right, rightValue)
        switch `operator` {
        case .compulsoryPair: return "\(leftText) and \(rightText) must be reported together or not at all"
        case .exclusivePair: return "\(leftText) and \(rightText) must not both be reported"
        default: return "\(leftText) must be \(`operator`.rawValue) \(rightText)"
        }
    }

    /// Σ coefficient × value + constant, a missing term counting as 0.
    private static func total(_ expression: RuleExpression, _ values: [Double?]) -> Double {
        zip(expression.terms, values).reduce(expression.constant) { $0 + $1.0.coefficient * ($1.1 ?? 0) }
    }

    private static func compare(_ left: Double, _ operator: RuleOperator, _ right: Double) -> Bool {
        let equal = abs(left - right) <= relativeTolerance * Swift.max(abs(left), abs(right), 1)
        switch `operator` {
        case .less: return left < right && !equal
        case .lessOrEqual: return left < right || equal
        case .equal: return equal
        case .notEqual: return !equal
        case .greaterOrEqual: return left > right || equal
        case .greater: return left > right && !equal
        case .compulsoryPair, .exclusivePair: preconditionFailure("pairs compare presence, not values")
        }
    }
}
