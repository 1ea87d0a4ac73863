import Aggregation
import Foundation
import Postgres

/// What the service expects partners to report, and when (docs/events.md#reminders).
///
/// A commitment (partner × indicator, maybe one neighborhood) of an active partner to an
/// active indicator expects a measurement in every period of the indicator's period type that
/// ends on or after the day it is expected from (`expectedFrom`) and overlaps the agenda's
/// `starts_on`…`ends_on`. A cell is (partner, indicator,
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

    /// The first day a commitment (`c`) expects numbers for: the day it was made, or the start
    /// of the first period its partner reported the indicator for, whichever is earlier. A
    /// partner that brings its history is expected for that history; a partner that joins
    /// today is not reminded of the years before it joined. The completeness report uses the
    /// same expression, so both count the same commitments.
    static let expectedFrom: Query = """
        LEAST(c.created_at::date, (SELECT min(f.period_start) FROM measurements f
                                   WHERE f.indicator_code = c.indicator_code AND f.partner_id = c.partner_id))
        """

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
        // Periods whose due date is in `dues`: their last day is `dueDays` earlier.
        let lastDays = dues.lowerBound.adding(days: -dueDays)...dues.upperBound.adding(days: -dueDays)
        let wanted = try commitmentsPerPeriod(
            connection, agenda: agenda, lastDays: lastDays, within: (startsOn, endsOn))
        guard !wanted.isEmpty else { return [] }
        let reported = try Reported(
            connection, agenda: agenda, keys: wanted.map(\.key), until: lastDays.upperBound)
        var order: [Key] = []
        var missingOf: [Key: [String?]] = [:]
        for (key, neighborhood) in wanted {
            if missingOf[key] == nil {
                order.append(key)
                missingOf[key] = []
            }
            if !reported.covers(key, neighborhood: neighborhood) { missingOf[key]?.append(neighborhood) }
        }
        return order.map { key in
            Cell(
                agenda: agenda, partner: key.partner, indicator: key.indicator, period: key.period,
                due: due(key.period, reportingDueDays: dueDays), missing: missingOf[key] ?? [])
        }
    }

    /// A (partner, indicator, period) an agenda expects.
    struct Key: Hashable {
        var partner: String
        var indicator: String
        var period: Period
    }

    /// Each commitment once per period of its indicator's type whose last day is in
    /// `lastDays`, from the day it is expected from, inside the agenda's dates.
    private static func commitmentsPerPeriod(
        _ connection: Connection, agenda: String, lastDays: ClosedRange<Day>, within dates: (Day?, Day?)
    ) throws -> [(key: Key, neighborhood: String?)] {
        let commitments = try connection.query(
            """
            SELECT c.partner_id, c.indicator_code, c.neighborhood_code, i.period_type, \(expectedFrom)
            FROM commitments c JOIN indicators i ON i.code = c.indicator_code
            JOIN partners p ON p.id = c.partner_id
            WHERE i.agenda_id = \(agenda) AND i.active AND p.active
            ORDER BY c.partner_id, c.indicator_code, c.neighborhood_code NULLS FIRST
            """)
        var periodsOfType: [PeriodType: [Period]] = [:]
        var wanted: [(key: Key, neighborhood: String?)] = []
        for row in commitments {
            let (partner, indicator, neighborhood, typeText, from) =
                try row.decode((String, String, String?, String, Day).self)
            let type = try PeriodType.stored(typeText, column: "indicators.period_type")
            if periodsOfType[type] == nil { periodsOfType[type] = periods(of: type, endingIn: lastDays) }
            for period in periodsOfType[type] ?? [] where period.lastDay >= from {
                if let startsOn = dates.0, period.lastDay < startsOn { continue }
                if let endsOn = dates.1, period.start > endsOn { continue }
                wanted.append((Key(partner: partner, indicator: indicator, period: period), neighborhood))
            }
        }
        return wanted
    }

    /// Every period of `type` whose last day is in `lastDays`.
    private static func periods(of type: PeriodType, endingIn lastDays: ClosedRange<Day>) -> [Period] {
        var found: [Period] = []
        var current = Period.containing(lastDays.lowerBound, type: type)
        while let period = current, period.start <= lastDays.upperBound {
            if lastDays.contains(period.lastDay) { found.append(period) }
            current = period.following
        }
        return found
    }

    /// What the partners of `keys` reported in their periods: once per (partner, indicator,
    /// period), and per neighborhood.
    private struct Reported {
        var any = Set<Key>()
        var inNeighborhood = Set<[String]>()

        init(_ connection: Connection, agenda: String, keys: [Key], until: Day) throws {
            let earliest = keys.map(\.period.start).min() ?? until
            var types: [String: PeriodType] = [:]
            for key in keys { types[key.indicator] = key.period.type }
            let rows = try connection.query(
                """
                SELECT DISTINCT m.partner_id, m.indicator_code, m.neighborhood_code, m.period_start
                FROM measurements m JOIN indicators i ON i.code = m.indicator_code
                WHERE i.agenda_id = \(agenda) AND i.active AND m.period_start >= \(earliest)
                  AND m.period_start <= \(until)
                  AND m.partner_id = ANY(\(Array(Set(keys.map(\.partner))))::text[])
                """)
            for row in rows {
                let (partner, indicator, neighborhood, start) = try row.decode((String, String, String, Day).self)
                guard let type = types[indicator], let period = Period.containing(start, type: type) else { continue }
                any.insert(Key(partner: partner, indicator: indicator, period: period))
                inNeighborhood.insert([partner, indicator, period.description, neighborhood])
            }
        }

        /// Whether a commitment of `key` (for `neighborhood`, or any) has its measurement.
        func covers(_ key: Key, neighborhood: String?) -> Bool {
            guard let neighborhood else { return any.contains(key) }
            return inNeighborhood.contains([key.partner, key.indicator, key.period.description, neighborhood])
        }
    }
}
