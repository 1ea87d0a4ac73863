import Aggregation
import DomainModel

/// A closed period for an agenda or one indicator.
public struct PeriodLock: Sendable {
    public var id: Int
    public var agenda: String?
    public var indicator: String?
    public var period: String
    public var start: Day
    public var end: Day
    public var reason: String?

    func covers(indicator rules: Indicator, period: Period) -> Bool {
        guard agenda == rules.agenda || indicator == rules.code else { return false }
        return period.start >= start && period.start < end
    }
}
