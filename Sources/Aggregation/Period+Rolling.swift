/// Moving between periods: up to a coarser type, and back one step in time.
extension Period {
    /// The period of type `target` that holds this one; `self` when `target` is not coarser.
    ///
    /// Months go to their quarter and year. An ISO week goes to the month, quarter and year of
    /// its Thursday, the ISO rule, so a week is never split and `2026-W01` lands in `2026`.
    public func rolled(to target: PeriodType) -> Period {
        guard target > type else { return self }
        let anchor = type == .week ? thursday : start
        switch target {
        case .year: return Period(type: .year, year: anchor.year, index: 1)!
        case .quarter: return Period(type: .quarter, year: anchor.year, index: (anchor.month - 1) / 3 + 1)!
        case .month: return Period(type: .month, year: anchor.year, index: anchor.month)!
        case .week: return self
        }
    }

    /// The period of the same type just before this one; `nil` before the year 1000.
    public var previous: Period? {
        guard index == 1 else { return Period(type: type, year: year, index: index - 1) }
        switch type {
        case .year: return Period(type: .year, year: year - 1, index: 1)
        case .quarter: return Period(type: .quarter, year: year - 1, index: 4)
        case .month: return Period(type: .month, year: year - 1, index: 12)
        case .week: return Period(type: .week, year: year - 1, index: Period.isoWeeks(in: year - 1))
        }
    }

    /// The period of the same type right after this one; `nil` after the year 9999.
    public var following: Period? {
        switch type {
        case .year: return Period(type: .year, year: year + 1, index: 1)
        case .quarter:
            return index < 4
                ? Period(type: .quarter, year: year, index: index + 1)
                : Period(type: .quarter, year: year + 1, index: 1)
        case .month:
            return index < 12
                ? Period(type: .month, year: year, index: index + 1) : Period(type: .month, year: year + 1, index: 1)
        case .week:
            return Period(type: .week, year: year, index: index + 1) ?? Period(type: .week, year: year + 1, index: 1)
        }
    }

    /// The period of `type` that holds `day` (an ISO week for `.week`); `nil` outside the years 1000–9999.
    public static func containing(_ day: Day, type: PeriodType) -> Period? {
        switch type {
        case .year: return Period(type: .year, year: day.year, index: 1)
        case .quarter: return Period(type: .quarter, year: day.year, index: (day.month - 1) / 3 + 1)
        case .month: return Period(type: .month, year: day.year, index: day.month)
        case .week:
            let number = dayNumber(year: day.year, month: day.month, day: day.day)
            let weekday = ((number + 3) % 7 + 7) % 7  // 0 = Monday
            let thursday = date(fromDayNumber: number - weekday + 3)
            let first = dayNumber(year: thursday.year, month: 1, day: 1)
            let index = (dayNumber(year: thursday.year, month: thursday.month, day: thursday.day) - first) / 7 + 1
            return Period(type: .week, year: thursday.year, index: index)
        }
    }

    /// The last day of the period.
    public var lastDay: Day { end.adding(days: -1) }

    /// The Thursday of a week period (the day ISO uses to place a week in a year).
    private var thursday: Day { start.adding(days: 3) }
}
