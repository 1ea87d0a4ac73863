import Aggregation
import DomainModel
import Foundation
import Postgres

extension Reports {
    /// For each commitment under the agenda that `period` expects (`Expected`: an active
    /// partner, from the day the commitment is expected from, inside the agenda's dates): did
    /// the partner report the indicator (for its neighborhood, if the commitment names one)
    /// for any period inside `period`?
    public static func completeness(_ connection: Connection, agenda: String, period: Period) throws
        -> CompletenessReport
    {
        guard try !connection.query("SELECT 1 FROM agendas WHERE id = \(agenda)").isEmpty else {
            throw DomainError.notFound("No agenda \(agenda).")
        }
        // The period's measurements of the agenda are counted once per (partner, indicator,
        // neighborhood) through the cell index, then matched to the commitments: a count per
        // commitment instead took seconds at a million measurements.
        let rows = try connection.query(
            """
            WITH counts AS (
                SELECT m.partner_id, m.indicator_code, m.neighborhood_code, count(*) AS n
                FROM measurements m JOIN indicators i ON i.code = m.indicator_code
                WHERE i.agenda_id = \(agenda) AND i.active
                  AND m.period_start >= \(period.start) AND m.period_start < \(period.end)
                GROUP BY m.partner_id, m.indicator_code, m.neighborhood_code)
            SELECT c.partner_id, c.indicator_code, c.neighborhood_code, coalesce(sum(k.n), 0)::bigint
            FROM commitments c JOIN indicators i ON i.code = c.indicator_code
            JOIN partners p ON p.id = c.partner_id JOIN agendas a ON a.id = i.agenda_id
            LEFT JOIN counts k ON k.partner_id = c.partner_id AND k.indicator_code = c.indicator_code
                AND (c.neighborhood_code IS NULL OR k.neighborhood_code = c.neighborhood_code)
            WHERE i.agenda_id = \(agenda) AND i.active AND p.active
              AND \(Expected.expectedFrom) <= \(period.lastDay)
              AND (a.starts_on IS NULL OR a.starts_on <= \(period.lastDay))
              AND (a.ends_on IS NULL OR a.ends_on >= \(period.start))
            GROUP BY c.id, c.partner_id, c.indicator_code, c.neighborhood_code
            ORDER BY c.partner_id, c.indicator_code, c.neighborhood_code NULLS FIRST
            """)
        let due = Expected.due(
            period, reportingDueDays: try Expected.reportingDueDays(connection, agenda: agenda) ?? 30)
        var reminders: [[String]: [CompletenessReport.Reminder]] = [:]
        for row in try connection.query(
            """
            SELECT r.partner_id, r.indicator_code, r.period, r.stage, r.sent_at
            FROM reminders_sent r JOIN indicators i ON i.code = r.indicator_code
            WHERE i.agenda_id = \(agenda) AND r.period = ANY(\(periodsInside(period))::text[])
            ORDER BY r.sent_at, r.stage
            """)
        {
            let (partner, indicator, text, stage, sentAt) = try row.decode((String, String, String, String, Date).self)
            guard let sent = Period(text), sent.start >= period.start, sent.start < period.end else { continue }
            reminders[[partner, indicator], default: []].append(
                CompletenessReport.Reminder(stage: stage, sentAt: sentAt))
        }
        let entries = try rows.map { row in
            let (partner, indicator, neighborhood, count) = try row.decode((String, String, String?, Int).self)
            return CompletenessReport.Entry(
                partner: partner, indicator: indicator, neighborhood: neighborhood, reported: count > 0,
                measurements: count, due: due.description, reminders: reminders[[partner, indicator]] ?? [])
        }
        func rates(_ key: (CompletenessReport.Entry) -> String) -> [CompletenessReport.Rate] {
            Dictionary(grouping: entries, by: key).map { id, group in
                let reported = group.filter(\.reported).count
                return CompletenessReport.Rate(
                    id: id, committed: group.count, reported: reported, rate: Double(reported) / Double(group.count))
            }.sorted { ($0.rate, $0.id) < ($1.rate, $1.id) }
        }
        let reported = entries.filter(\.reported).count
        return CompletenessReport(
            agenda: agenda, period: period.description, committed: entries.count, reported: reported,
            rate: entries.isEmpty ? nil : Double(reported) / Double(entries.count), entries: entries,
            partners: rates(\.partner), indicators: rates(\.indicator))
    }

    /// The spellings of every period of `period`'s type or a finer one that starts inside it.
    static func periodsInside(_ period: Period) -> [String] {
        var inside: [String] = []
        for type in PeriodType.allCases where type <= period.type {
            var current = Period.containing(period.start, type: type)
            while let each = current, each.start < period.end {
                if each.start >= period.start { inside.append(each.description) }
                current = each.following
            }
        }
        return inside
    }
}
