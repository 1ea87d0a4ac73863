/// The one spelling of a number Backbone writes, in JSON, CSV and messages alike.
public enum JSONNumber {
    /// Whole numbers below 1e15 as plain digits (`42`, not `42.0`); the rest as Swift's
    /// shortest text that reads back to the same double (`0.1`, `1e+20`).
    public static func text(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    /// Appends `text(number)` to `output`; a whole number's digits go straight in, without a
    /// `String` (a report writes some 20,000 numbers).
    public static func write(_ number: Double, into output: inout [UInt8]) {
        guard number == number.rounded(), abs(number) < 1e15 else {
            output.append(contentsOf: String(number).utf8)
            return
        }
        var value = Int64(number)
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            value = -value
        }
        var divisor: Int64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(value / divisor))
            value %= divisor
            divisor /= 10
        }
    }

    /// Whether decimal `text` became `number` only by underflowing: it has a non-zero
    /// digit before any exponent, yet reads as zero or as a subnormal double, which keeps
    /// too few digits (`0.1e-400` would quietly be stored as 0).
    public static func underflows(_ text: some StringProtocol, to number: Double) -> Bool {
        if number.isSubnormal { return true }
        guard number == 0 else { return false }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "e"), UInt8(ascii: "E"): return false
            case UInt8(ascii: "1")...UInt8(ascii: "9"): return true
            default: continue
            }
        }
        return false
    }
}
