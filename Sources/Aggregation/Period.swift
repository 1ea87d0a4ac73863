import Foundation
import UTCTime

/// How long an indicator's periods are.
public enum PeriodType: String, Sendable, CaseIterable, Comparable {
    case week, month, quarter, year

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: PeriodType, rhs: PeriodType) -> Bool { lhs.rank < rhs.rank }
}

/// A reporting period written the way people write them: `2026`, `2026-Q3`, `2026-10`, `2026-W05`.
public struct Period: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let type: PeriodType
    public let year: Int
    /// Month 1–12, quarter 1–4, ISO week 1–53; 1 for a year.
    public let index: Int

    public init?(type: PeriodType, year: Int, index: Int) {
        guard (1000...9999).contains(year) else { return nil }
        switch type {
        case .year: guard index == 1 else { return nil }
        case .quarter: guard (1...4).contains(index) else { return nil }
        case .month: guard (1...12).contains(index) else { return nil }
        case .week: guard (1...Period.isoWeeks(in: year)).contains(index) else { return nil }
        }
        self.type = type
        self.year = year
        self.index = index
    }

    /// Parses any of the four spellings; `nil` if it is none of them.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, first.count == 4, first.allSatisfy(\.isASCIIDigit), let year = Int(first) else {
            return nil
        }
        if parts.count == 1 {
            self.init(type: .year, year: year, index: 1)
            return
        }
        guard parts.count == 2 else { return nil }
        let rest = parts[1]
        if rest.first == "Q", rest.count == 2, let quarter = Int(rest.dropFirst()),
            rest.dropFirst().allSatisfy(\.isASCIIDigit)
        {
            self.init(type: .quarter, year: year, index: quarter)
        } else if rest.first == "W", rest.count == 3, rest.dropFirst().allSatisfy(\.isASCIIDigit),
            let week = Int(rest.dropFirst())
        {
            self.init(type: .week, year: year, index: week)
        } else if rest.count == 2, rest.allSatisfy(\.isASCIIDigit), let month = Int(rest) {
            self.init(type: .month, year: year, index: month)
        } else {
            return nil
        }
    }

    public var description: String {
        switch type {
        case .year: return String(year)
        case .quarter: return "\(year)-Q\(index)"
        case .month: return zeroPadded(year, 4) + "-" + zeroPadded(index, 2)
        case .week: return zeroPadded(year, 4) + "-W" + zeroPadded(index, 2)
        }
    }

    /// The first day of the period.
    public var start: Day {
        switch type {
        case .year: return Day(year: year, month: 1, day: 1)
        case .quarter: return Day(year: year, month: (index - 1) * 3 + 1, day: 1)
        case .month: return Day(year: year, month: index, day: 1)
        case .week:
            // ISO week 1 holds January 4th; weeks start on Monday.
            let jan4 = Period.dayNumber(year: year, month: 1, day: 4)
            let weekday = (jan4 + 3) % 7  // 0 = Monday (day 0 of the epoch, 1970-01-01, was a Thursday)
            return Period.date(fromDayNumber: jan4 - weekday + (index - 1) * 7)
        }
    }

    /// The first day after the period.
    public var end: Day {
        switch type {
        case .year: return Day(year: year + 1, month: 1, day: 1)
        case .quarter:
            return index == 4 ? Day(year: year + 1, month: 1, day: 1) : Day(year: year, month: index * 3 + 1, day: 1)
        case .month:
            return index == 12 ? Day(year: year + 1, month: 1, day: 1) : Day(year: year, month: index + 1, day: 1)
        case .week: return start.adding(days: 7)
        }
    }

    public static func < (lhs: Period, rhs: Period) -> Bool {
        lhs.start == rhs.start ? lhs.type > rhs.type : lhs.start < rhs.start
    }

    static func isoWeeks(in year: Int) -> Int {
        // A year has 53 ISO weeks when it starts on a Thursday, or is a leap year starting on a Wednesday.
        let jan1 = (dayNumber(year: year, month: 1, day: 1) + 3) % 7  // 0 = Monday
        let leap = Day.daysIn(month: 2, year: year) == 29
        return jan1 == 3 || (leap && jan1 == 2) ? 53 : 52
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(fromDayNumber number: Int) -> Day {
        let (year, month, day) = UTCTimestamp.civilDate(daysSinceEpoch: number)
        return Day(year: year, month: month, day: day)
    }

    /// Today's date in UTC.
    public static func today() -> Day {
        date(fromDayNumber: Int(Date().timeIntervalSince1970 / 86_400))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// `value` in decimal with leading zeros up to `width` digits. Ingest spells a period and
/// a day for every row, and `String(format:)` cost more than the rest of the row's binding.
func zeroPadded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.utf8.count >= width ? digits : String(repeating: "0", count: width - digits.utf8.count) + digits
}
