/// The one spelling of a number Backbone writes, in JSON, CSV and messages alike.
public enum JSONNumber {
    /// Whole numbers below 1e15 as plain digits (`42`, not `42.0`); the rest as Swift's
    /// shortest text that reads back to the same double (`0.1`, `1e+20`).
    public static func text(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
