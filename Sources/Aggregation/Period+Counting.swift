extension Period {
    /// How many periods of `type` lie from `start` to `end` (negative if `end` is earlier).
    public static func count(from start: Period, to end: Period, in type: PeriodType) -> Int {
        let from = start.start
        let to = end.start
        let months = (to.year - from.year) * 12 + to.month - from.month
        switch type {
        case .week:
            return
                (dayNumber(year: to.year, month: to.month, day: to.day)
                - dayNumber(year: from.year, month: from.month, day: from.day)) / 7
        case .month: return months
        case .quarter: return months / 3
        case .year: return to.year - from.year
        }
    }
}
