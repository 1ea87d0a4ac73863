import Aggregation
import Foundation
import Postgres

/// What the service expects partners to report, and when (docs/events.md#reminders).
///
/// A commitment (partner × indicator, maybe one neighborhood) expects a measurement in every
/// period of the indicator's period type that ends on or after the day the commitment was
/// made and overlaps the agenda's `starts_on`…`ends_on`. A cell is (partner, indicator,
/// period): it is reported when every commitment of the partner to the indicator has a
/// measurement in the period (in its neighborhood, if it names one), the test
/// `Reports.completeness` applies. A period's numbers are due `reporting_due_days` after its
/// last day, and overdue from the day after.
public enum Expected {
    /// One expected (partner, indicator, period) of an agenda.
    public struct Cell: Sendable, Hashable {
        public var agenda: String
        public var partner: String
        public var indicator: String
        public var period: Period
        public var due: Day
        /// The neighborhoods of the commitments not reported (`nil`: a commitment for any neighborhood).
        public var missing: [String?]

        /// Reported: no commitment of the cell is missing.
        public var reported: Bool { missing.isEmpty }
    }

    /// The day `period`'s numbers are due under an agenda's `reporting_due_days`.
    public static func due(_ period: Period, reportingDueDays: Int) -> Day {
        period.lastDay.adding(days: reportingDueDays)
    }

    /// Whether numbers due on `due` are late on `today`.
    public static func isOverdue(due: Day, today: Day) -> Bool { today > due }

    /// The agenda's `reporting_due_days`; nil when there is no such agenda.
    public static func reportingDueDays(_ connection: Connection, agenda: String) throws -> Int? {
        try connection.query("SELECT reporting_due_days FROM agendas WHERE id = \(agenda)").first?.decode(Int.self)
    }

    /// Every expected cell of an active agenda whose due date lies in `dues`, reported or not.
    public static func cells(_ connection: Connection, agenda: String, dues: ClosedRange<Day>) throws -> [Cell] {
        guard
            let header = try connection.query(
                "SELECT starts_on, ends_on, reporting_due_days FROM agendas WHERE id = \(agenda)"
            ).first
        else { return [] }
        let (startsOn, endsOn, dueDays) = try header.decode((Day?, Day?, Int).self)
        let commitments = try connection.query(
            """
            SELECT c.partner_id, c.indicator_code, c.neighborhood_code, i.period_type, c.created_at::date
            FROM commitments c JOIN indicators i ON i.code = c.indicator_code
            JOIN partners p ON p.id = c.partner_id
            WHERE i.agenda_id = \(agenda) AND i.active AND p.active
            ORDER BY c.partner_id, c.indicator_code, c.neighborhood_code NULLS FIRST
            """)
        // Periods whose due date is in `dues`: their last day is `dueDays` earlier.
        let firstLast = dues.lowerBound.adding(days: -dueDays)
        let lastLast = dues.upperBound.adding(days: -dueDays)
        var periodsOfType: [PeriodType: [Period]] = [:]
        func periods(_ type: PeriodType) -> [Period] {
            if let known = periodsOfType[type] { return known }
            var found: [Period] = []
            var current = Period.containing(firstLast, type: type)
            while let period = current, period.start <= lastLast {
                if period.lastDay >= firstLast && period.lastDay <= lastLast { found.append(period) }
                current = period.following
            }
            periodsOfType[type] = found
            return found
        }
        struct Key: Hashable {
            var partner: String
            var indicator: String
            var period: Period
        }
        var order: [Key] = []
        var missingOf: [Key: [String?]] = [:]
        var earliest = lastLast
        var wanted: [(key: Key, neighborhood: String?)] = []
        for row in commitments {
            let (partner, indicator, neighborhood, typeText, made) =
                try row.decode((String, String, String?, String, Day).self)
            guard let type = PeriodType(rawValue: typeText) else { continue }
            for period in periods(type) where period.lastDay >= made {
                if let startsOn, period.lastDay < startsOn { continue }
                if let endsOn, period.start > endsOn { continue }
                let key = Key(partner: partner, indicator: indicator, period: period)
                if missingOf[key] == nil {
                    order.append(key)
                    missingOf[key] = []
                }
                wanted.append((key, neighborhood))
                earliest = min(earliest, period.start)
            }
        }
        guard !wanted.isEmpty else { return [] }
        // What was reported in the window, once per (partner, indicator, neighborhood, period start).
        let reportedRows = try connection.query(
            """
            SELECT DISTINCT m.partner_id, m.indicator_code, m.neighborhood_code, m.period_start
            FROM measurements m JOIN indicators i ON i.code = m.indicator_code
            WHERE i.agenda_id = \(agenda) AND i.active AND m.period_start >= \(earliest)
              AND m.period_start <= \(lastLast)
              AND m.partner_id = ANY(\(Array(Set(order.map(\.partner))))::text[])
            """)
        var types: [String: PeriodType] = [:]
        for key in order { types[key.indicator] = key.period.type }
        var reportedAny = Set<Key>()
        var reportedIn = Set<[String]>()
        for row in reportedRows {
            let (partner, indicator, neighborhood, start) = try row.decode((String, String, String, Day).self)
            guard let type = types[indicator], let period = Period.containing(start, type: type) else { continue }
            let key = Key(partner: partner, indicator: indicator, period: period)
            reportedAny.insert(key)
            reportedIn.insert([partner, indicator, period.description, neighborhood])
        }
        for (key, neighborhood) in wanted {
            let reported =
                if let neighborhood {
                    reportedIn.contains([key.partner, key.indicator, key.period.description, neighborhood])
                } else {
                    reportedAny.contains(key)
                }
            if !reported { missingOf[key]?.append(neighborhood) }
        }
        return order.map { key in
            Cell(
                agenda: agenda, partner: key.partner, indicator: key.indicator, period: key.period,
                due: due(key.period, reportingDueDays: dueDays), missing: missingOf[key] ?? [])
        }
    }
}
