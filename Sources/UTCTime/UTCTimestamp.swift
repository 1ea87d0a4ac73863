/// Moments as ISO 8601 in UTC, `2026-11-25T15:01:32Z`, with a fraction of the second
/// when asked (`…:32.123Z`): the one spelling of a moment that responses, log lines and
/// the database's `timestamptz` text share.
///
/// The date is computed from the day number rather than by `gmtime_r`, which takes
/// glibc's time-zone lock on every call (two loops writing log lines contended for it).
public enum UTCTimestamp {
    /// `seconds` since 1970-01-01T00:00:00Z, then `fractionDigits` digits of `fraction`
    /// (a count of 10^-`fractionDigits` seconds, below 10^`fractionDigits`; left out when
    /// `fractionDigits` is 0), then `Z`.
    public static func write(seconds: Int, fraction: Int = 0, fractionDigits: Int = 0, into output: inout [UInt8]) {
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        digits(year, width: 4, into: &output)
        output.append(UInt8(ascii: "-"))
        digits(month, width: 2, into: &output)
        output.append(UInt8(ascii: "-"))
        digits(day, width: 2, into: &output)
        output.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, width: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, width: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, width: 2, into: &output)
        if fractionDigits > 0 {
            output.append(UInt8(ascii: "."))
            digits(fraction, width: fractionDigits, into: &output)
        }
        output.append(UInt8(ascii: "Z"))
    }

    /// The text `write` appends.
    public static func string(seconds: Int, fraction: Int = 0, fractionDigits: Int = 0) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(32)
        write(seconds: seconds, fraction: fraction, fractionDigits: fractionDigits, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (negative before it),
    /// by Howard Hinnant's `civil_from_days`.
    public static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let (era, dayOfEra) = floorDivision(days + 719_468, 146_097)  // days since 0000-03-01
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153  // March is 0
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Quotient rounded down and the remainder that goes with it (never negative).
    private static func floorDivision(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// `value` in decimal, zero-padded to `width` digits (more when it has more).
    private static func digits(_ value: Int, width: Int, into output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            digits(-value, width: width, into: &output)
            return
        }
        var divisor = 1
        var count = 1
        while value / divisor >= 10 {
            divisor *= 10
            count += 1
        }
        for _ in count..<max(width, count) { output.append(UInt8(ascii: "0")) }
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
