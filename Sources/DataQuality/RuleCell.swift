import Aggregation

/// What a rule is evaluated over: the rows of one partner, neighborhood and period (stored
/// values with a batch laid over them), and how each indicator's rows combine.
public struct RuleCell: Sendable {
    /// One measurement's dimension values and its reading.
    public struct Row: Sendable, Equatable {
        public enum Reading: Sendable, Equatable {
            case value(Double)
            /// A ratio indicator's measurement: its value is numerator / denominator × the indicator's scale.
            case ratio(numerator: Double, denominator: Double)
        }

        public var indicator: String
        public var dimensions: [String: String]
        public var reading: Reading

        public init(indicator: String, dimensions: [String: String] = [:], reading: Reading) {
            self.indicator = indicator
            self.dimensions = dimensions
            self.reading = reading
        }

        public init(indicator: String, dimensions: [String: String] = [:], value: Double) {
            self.init(indicator: indicator, dimensions: dimensions, reading: .value(value))
        }

        public init(indicator: String, dimensions: [String: String] = [:], numerator: Double, denominator: Double) {
            self.init(
                indicator: indicator, dimensions: dimensions,
                reading: .ratio(numerator: numerator, denominator: denominator))
        }
    }

    /// How an indicator's rows combine: its aggregation and, for a ratio, its scale (100 for a
    /// percent, else 1: DomainModel's `Indicator.scale`).
    public struct Combination: Sendable, Equatable {
        public var method: AggregationMethod
        public var ratioScale: Double

        public init(method: AggregationMethod, ratioScale: Double = 1) {
            self.method = method
            self.ratioScale = ratioScale
        }
    }

    public var rows: [Row]
    /// Indicator code → how its rows combine; must hold every indicator the rules evaluated read.
    public var combinations: [String: Combination]

    public init(rows: [Row], combinations: [String: Combination]) {
        self.rows = rows
        self.combinations = combinations
    }

    /// The term's value without its coefficient: the matching rows combined by the
    /// indicator's method; `nil` when no row matches (or a ratio's denominators sum to 0).
    func value(of term: RuleExpression.Term) -> Double? {
        guard let combination = combinations[term.indicator] else {
            preconditionFailure("RuleCell has no combination for indicator \(term.indicator), which a rule reads")
        }
        var count = 0
        var sum = 0.0
        var numerators = 0.0
        var denominators = 0.0
        var smallest = Double.infinity
        var largest = -Double.infinity
        for row in rows where row.indicator == term.indicator {
            guard term.filters.allSatisfy({ row.dimensions[$0.dimension] == $0.value }) else { continue }
            let value: Double
            switch row.reading {
            case .value(let plain):
                precondition(
                    combination.method != .ratio, "a row of ratio indicator \(term.indicator) has no numerator")
                value = plain
            case .ratio(let numerator, let denominator):
                numerators += numerator
                denominators += denominator
                value = denominator == 0 ? 0 : numerator / denominator * combination.ratioScale
            }
            count += 1
            sum += value
            smallest = Swift.min(smallest, value)
            largest = Swift.max(largest, value)
        }
        guard count > 0 else { return nil }
        switch combination.method {
        case .sum, .last: return sum
        case .mean: return sum / Double(count)
        case .min: return smallest
        case .max: return largest
        case .ratio: return denominators == 0 ? nil : numerators / denominators * combination.ratioScale
        }
    }
}

/// What a rule finds in one cell.
public enum RuleOutcome: Sendable, Equatable {
    /// Not evaluated: its missing-value strategy skips the cell.
    case skipped
    case holds
    /// The two sides' values (`nil` for a side without data, under a pair operator).
    case violated(left: Double?, right: Double?)
}
