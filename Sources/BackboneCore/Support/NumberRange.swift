/// The finite range every stored number lies in: measurement values, numerators and
/// denominators, and the registry's numbers (min, max, baseline, target, population).
///
/// A report sums, averages and divides these; with every input within ±10^15 no sum of
/// any number of rows can overflow a Double, so a total is never infinite or `null`.
public enum NumberRange {
    /// The largest magnitude accepted: 10^15 (a quadrillion).
    public static let maxMagnitude = 1e15

    public static func contains(_ number: Double) -> Bool {
        number.isFinite && abs(number) <= maxMagnitude
    }

    /// Why `number` is refused (`not-finite` or `out-of-range`), or `nil` when it is accepted.
    public static func refusal(_ number: Double) -> (code: String, message: String)? {
        if !number.isFinite { return ("not-finite", "must be a finite number, not \(number)") }
        if !contains(number) { return ("out-of-range", "\(number) is outside the accepted range of -1e15 to 1e15") }
        return nil
    }
}
