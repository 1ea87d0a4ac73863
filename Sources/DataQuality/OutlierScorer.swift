// TEMPORARY STUB (replaced by the outliers branch)
import Aggregation

public struct OutlierScorer: Sendable {
    public enum Shape: Sendable { case level, rate, stock }
    public struct Point: Sendable {
        public var period: Period; public var value: Double
        public init(period: Period, value: Double) { self.period = period; self.value = value }
    }
    public struct Finding: Sendable { public var score: Double; public var expected: ClosedRange<Double> }
    public var threshold: Double; public var minimumHistory: Int
    public static let defaultThreshold: Double = 5
    public static let defaultMinimumHistory: Int = 6
    public static let historyPeriods = 13
    public init(threshold: Double = defaultThreshold, minimumHistory: Int = defaultMinimumHistory) {
        self.threshold = threshold; self.minimumHistory = minimumHistory
    }
    public func outlier(_ value: Double, at period: Period, history: [Point], shape: Shape) -> Finding? {
        guard history.count >= minimumHistory else { return nil }
        let values = history.map(\.value).sorted(); let median = values[values.count / 2]
        let mad = max(values.map { abs($0 - median) }.sorted()[values.count / 2], 1)
        let score = abs(value - median) / mad
        return score >= threshold
            ? Finding(score: score, expected: (median - threshold * mad)...(median + threshold * mad)) : nil
    }
}
