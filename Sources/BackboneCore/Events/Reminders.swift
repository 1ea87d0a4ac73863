import Aggregation
import Foundation
import JSON
import Postgres

/// Reminders that catch up (docs/events.md#reminders): for every active agenda, each expected
/// cell not reported gets a `reminder.due` to its partner when its due date is at most
/// `dueSoonDays` away and a `reminder.overdue` once it has passed, each once per (partner,
/// indicator, period, stage); the coordinator gets one `digest.overdue` per agenda and day.
/// Every period whose due date lies within the last `windowDays` days is considered, so a
/// server that was down sends what it missed; two servers running at once send each once.
public enum Reminders {
    /// How far back reminders reach: periods whose due date is at most this many days ago.
    public static let windowDays = 400
    /// At most this many cells are listed in a digest (its `late_cells` counts them all).
    public static let digestCellLimit = 1000

    /// What one run sent.
    public struct Outcome: Sendable, Equatable {
        public var due: Int
        public var overdue: Int
        public var digests: Int

        public init(due: Int = 0, overdue: Int = 0, digests: Int = 0) {
            self.due = due
            self.overdue = overdue
            self.digests = digests
        }
    }

    /// Sends the reminders and digests due on `today` that were not sent before.
    @discardableResult
    public static func run(_ connection: Connection, today: Day, dueSoonDays: Int) throws -> Outcome {
        var outcome = Outcome()
        let agendas = try connection.query("SELECT id FROM agendas WHERE active ORDER BY id").map {
            try $0.decode(String.self)
        }
        for agenda in agendas {
            let cells = try Expected.cells(
                connection, agenda: agenda,
                dues: today.adding(days: -windowDays)...today.adding(days: max(dueSoonDays, 0)))
            let unreported = cells.filter { !$0.reported }
            let sent = try alreadySent(connection, for: unreported)
            for cell in unreported {
                let stage: ReminderStage = Expected.isOverdue(due: cell.due, today: today) ? .overdue : .due
                guard !sent.contains([cell.partner, cell.indicator, cell.period.description, stage.rawValue]) else {
                    continue
                }
                if try send(connection, cell, stage: stage) {
                    if stage == .due { outcome.due += 1 } else { outcome.overdue += 1 }
                }
            }
            let late = unreported.filter { Expected.isOverdue(due: $0.due, today: today) }
            if !late.isEmpty, try digest(connection, agenda: agenda, today: today, late: late) {
                outcome.digests += 1
            }
        }
        return outcome
    }

    /// The reminders already recorded for these cells, as [partner, indicator, period, stage]
    /// (only theirs: what was sent for periods out of the window is not read again).
    static func alreadySent(_ connection: Connection, for cells: [Expected.Cell]) throws -> Set<[String]> {
        guard !cells.isEmpty else { return [] }
        let rows = try connection.query(
            """
            SELECT s.partner_id, s.indicator_code, s.period, s.stage
            FROM unnest(\(cells.map(\.partner))::text[], \(cells.map(\.indicator))::text[],
                        \(cells.map(\.period.description))::text[]) AS c(partner, indicator, period)
            JOIN reminders_sent s ON s.partner_id = c.partner AND s.indicator_code = c.indicator AND s.period = c.period
            """)
        return Set(
            try rows.map { row in
                let (partner, indicator, period, stage) = try row.decode((String, String, String, String).self)
                return [partner, indicator, period, stage]
            })
    }

    /// A claim that lost to another server's: its event is rolled back.
    private struct AlreadyClaimed: Error {}

    /// Writes the cell's reminder and records it, in one transaction; false when it was
    /// recorded already (by another server, meanwhile) or the partner has reported since.
    static func send(_ connection: Connection, _ cell: Expected.Cell, stage: ReminderStage) throws -> Bool {
        do {
            return try connection.transaction { connection in
                if try stillReported(connection, cell) { throw AlreadyClaimed() }
                let event = try Outbox.append(
                    connection, stage == .due ? .reminderDue : .reminderOverdue, agenda: cell.agenda,
                    partner: cell.partner, data: data(of: cell, stage: stage))
                let claimed = try connection.query(
                    """
                    INSERT INTO reminders_sent (partner_id, indicator_code, period, stage, event_id)
                    VALUES (\(cell.partner), \(cell.indicator), \(cell.period.description), \(stage.rawValue), \(event))
                    ON CONFLICT DO NOTHING RETURNING event_id
                    """)
                if claimed.isEmpty { throw AlreadyClaimed() }
                return true
            }
        } catch is AlreadyClaimed {
            return false
        }
    }

    /// Whether the partner has meanwhile reported every missing part of the cell.
    static func stillReported(_ connection: Connection, _ cell: Expected.Cell) throws -> Bool {
        for neighborhood in cell.missing {
            let found = try connection.query(
                """
                SELECT 1 FROM measurements
                WHERE partner_id = \(cell.partner) AND indicator_code = \(cell.indicator)
                  AND period_start >= \(cell.period.start) AND period_start < \(cell.period.end)
                  AND (\(neighborhood)::text IS NULL OR neighborhood_code = \(neighborhood))
                LIMIT 1
                """)
            if found.isEmpty { return false }
        }
        return true
    }

    /// A reminder's `data`.
    static func data(of cell: Expected.Cell, stage: ReminderStage) -> JSONValue {
        .object([
            "agenda": .string(cell.agenda), "partner": .string(cell.partner), "indicator": .string(cell.indicator),
            "period": .string(cell.period.description), "due": .string(cell.due.description),
            "stage": .string(stage.rawValue),
            "neighborhoods": .array(cell.missing.map { JSONValue($0) }),
        ])
    }

    /// Writes today's digest of `late` cells for the agenda unless one was written today.
    static func digest(_ connection: Connection, agenda: String, today: Day, late: [Expected.Cell]) throws -> Bool {
        guard
            try connection.query("SELECT 1 FROM digests_sent WHERE agenda_id = \(agenda) AND day = \(today)").isEmpty
        else { return false }
        let partners = Dictionary(grouping: late, by: \.partner).sorted { $0.key < $1.key }.map { partner, cells in
            JSONValue.object(["partner": .string(partner), "late_cells": JSONValue(cells.count)])
        }
        let listed = late.prefix(digestCellLimit).map { cell in
            JSONValue.object([
                "partner": .string(cell.partner), "indicator": .string(cell.indicator),
                "period": .string(cell.period.description), "due": .string(cell.due.description),
                "neighborhoods": .array(cell.missing.map { JSONValue($0) }),
            ])
        }
        let data = JSONValue.object([
            "agenda": .string(agenda), "day": .string(today.description), "late_cells": JSONValue(late.count),
            "partners": .array(partners), "cells": .array(Array(listed)),
            "truncated": .bool(late.count > listed.count),
        ])
        do {
            return try connection.transaction { connection in
                let event = try Outbox.append(connection, .digestOverdue, agenda: agenda, partner: nil, data: data)
                let claimed = try connection.query(
                    """
                    INSERT INTO digests_sent (agenda_id, day, event_id) VALUES (\(agenda), \(today), \(event))
                    ON CONFLICT DO NOTHING RETURNING event_id
                    """)
                if claimed.isEmpty { throw AlreadyClaimed() }
                return true
            }
        } catch is AlreadyClaimed {
            return false
        }
    }
}
