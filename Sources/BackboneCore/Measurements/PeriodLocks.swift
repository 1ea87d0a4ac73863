import Aggregation
import Foundation
import Postgres

/// Closing periods: the coordinator locks an agenda's or an indicator's period once its
/// figures are final; partners' writes into it are refused from then on.
public enum PeriodLocks {
    static let columns = "id, agenda_id, indicator_code, period, period_start, period_end, reason"

    static func decode(_ row: Row) throws -> PeriodLock {
        let (id, agenda, indicator, period, start, end, reason) =
            try row.decode((Int, String?, String?, String, Day, Day, String?).self)
        return PeriodLock(
            id: id, agenda: agenda, indicator: indicator, period: period, start: start, end: end, reason: reason)
    }

    /// Locks that apply to any of these agendas or indicators.
    public static func covering(_ connection: Connection, agendas: [String], indicators: [String]) throws
        -> [PeriodLock]
    {
        try connection.query(
            """
            SELECT \(Query(unsafeSQL: columns)) FROM period_locks
            WHERE agenda_id = ANY(\(agendas)::text[]) OR indicator_code = ANY(\(indicators)::text[])
            """
        ).map(decode)
    }

    public static func list(_ connection: Connection) throws -> [PeriodLock] {
        try connection.query("SELECT \(Query(unsafeSQL: columns)) FROM period_locks ORDER BY id").map(decode)
    }

    /// Locks `period` for an agenda or an indicator (exactly one of them).
    public static func create(
        _ connection: Connection, agenda: String?, indicator: String?, period text: String, reason: String?,
        keyID: String
    ) throws -> PeriodLock {
        var issues: [DomainError.Issue] = []
        if (agenda == nil) == (indicator == nil) {
            issues.append(
                DomainError.Issue(
                    field: agenda == nil ? "agenda" : "indicator", code: "required",
                    message: "give exactly one of agenda or indicator"))
        }
        let period = Period(text)
        if period == nil {
            issues.append(
                DomainError.Issue(
                    field: "period", code: "malformed-period",
                    message: "\(text.debugDescription) is not a period; write 2026, 2026-Q3, 2026-10 or 2026-W05"))
        }
        // A lock's dates are stored and answered as dates of four-digit years; the last
        // periods of 9999 (the year, Q4, December, W52) end on a day of the year 10000.
        if let period, period.end.year > 9999 {
            issues.append(
                DomainError.Issue(
                    field: "period", code: "period-out-of-range",
                    message: "\(text) ends on \(period.end), after 9999-12-31, the last day a lock can cover"))
        }
        guard issues.isEmpty, let period else { throw DomainError.invalid(issues) }
        do {
            let rows = try connection.query(
                """
                INSERT INTO period_locks (agenda_id, indicator_code, period, period_start, period_end, reason, locked_by)
                VALUES (\(agenda), \(indicator), \(period.description), \(period.start), \(period.end), \(reason), \(keyID))
                RETURNING \(Query(unsafeSQL: columns))
                """)
            let lock = try decode(rows[0])
            let lockedAgenda: String? =
                if let agenda { agenda } else {
                    try connection.query("SELECT agenda_id FROM indicators WHERE code = \(indicator)").first?.decode(
                        String.self)
                }
            try ChangeEvents.locked(connection, lock, agenda: lockedAgenda)
            return lock
        } catch let error as PostgresError where error.isForeignKeyViolation {
            let field = error.constraint == "period_locks_agenda_fkey" ? "agenda" : "indicator"
            throw DomainError.invalid(
                field: field, code: "unknown-reference", "no \(field) \(agenda ?? indicator ?? "") exists")
        }
    }

    /// Lifts a lock; false if there was none.
    public static func delete(_ connection: Connection, id: Int) throws -> Bool {
        try connection.query("DELETE FROM period_locks WHERE id = \(id)").affectedRows == 1
    }
}
