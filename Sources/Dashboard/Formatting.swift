import Foundation

/// How numbers are written on the dashboard: fixed, locale-free, so snapshots are stable.
public enum Format {
    /// A value for people: thousands separated by commas, at most `decimals` decimals
    /// (trailing zeros dropped), and the unit (`%` sticks to the number).
    static func value(_ value: Double, unit: String? = nil, decimals: Int = 1) -> String {
        let text = number(value, decimals: decimals)
        guard let unit, !unit.isEmpty else { return text }
        return unit == "%" ? text + "%" : text + " " + unit
    }

    /// A number for people: thousands separated by commas, at most `decimals` decimals.
    public static func number(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return "—" }
        let scale = pow(10, Double(decimals))
        let rounded = (value * scale).rounded() / scale
        let negative = rounded < 0
        let magnitude = abs(rounded)
        let whole = magnitude.rounded(.down)
        var fraction = ""
        if decimals > 0 {
            let digits = Int(((magnitude - whole) * scale).rounded())
            if digits > 0 {
                fraction = "." + String(digits).leftPadded(to: decimals)
                while fraction.hasSuffix("0") { fraction.removeLast() }
            }
        }
        var grouped = ""
        let wholeDigits = String(format: "%.0f", whole)
        for (offset, character) in wholeDigits.enumerated() {
            if offset > 0, (wholeDigits.count - offset) % 3 == 0 { grouped += "," }
            grouped.append(character)
        }
        return (negative ? "−" : "") + grouped + fraction
    }

    /// A coordinate: one decimal at most, `.` as separator.
    static func coordinate(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.1f", rounded)
    }

    static func percent(_ fraction: Double) -> String {
        number(fraction * 100, decimals: 0) + "%"
    }
}
