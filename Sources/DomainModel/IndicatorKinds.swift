/// What kind of number an indicator holds.
public enum ValueType: String, Sendable, CaseIterable {
    case count, amount, percent, rate, score
}

/// Which way an indicator is better.
public enum Direction: String, Sendable, CaseIterable {
    case increase, decrease
}
