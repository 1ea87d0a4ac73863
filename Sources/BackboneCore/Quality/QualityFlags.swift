import Aggregation
import Foundation
import Postgres

/// Reading flags and answering them: a partner explains its own, the coordinator explains,
/// confirms or reopens any; only the service marks one corrected (docs/quality.md#flags).
public enum QualityFlags {
    /// What a listing selects; every field optional.
    public struct Filter: Sendable {
        public var agenda: String?
        public var partner: String?
        public var indicator: String?
        public var status: QualityFlag.Status?
        public var kind: QualityFlag.Kind?
        /// Flags on periods starting from `from`'s start up to `to`'s end.
        public var from: Period?
        public var to: Period?
        /// Only flags still standing (open or explained); `status` narrows further.
        public var standingOnly = false

        public init() {}
    }

    /// One page, oldest flag first, and how many flags the filter selects in all.
    public struct Page: Sendable {
        public var items: [QualityFlag]
        public var total: Int
        public var nextCursor: Int?
    }

    public static func list(_ connection: Connection, filter: Filter, after cursor: Int?, limit: Int) throws -> Page {
        let selected = conditions(filter)
        let total = try connection.query("SELECT count(*) FROM quality_flags f WHERE \(selected)")[0].decode(
            Int.self, at: 0)
        let after: Query = cursor.map { " AND f.id > \($0)" } ?? ""
        let flags = try read(
            connection, where: "\(selected)\(after)", limit: limit + 1)
        let items = Array(flags.prefix(limit))
        return Page(items: items, total: total, nextCursor: flags.count > limit ? items.last?.id : nil)
    }

    /// One flag, if it exists and (for a partner) is on `partner`'s value.
    public static func find(_ connection: Connection, id: Int, visibleTo partner: String?) throws -> QualityFlag? {
        let own: Query = partner.map { " AND f.partner_id = \($0)" } ?? ""
        return try read(connection, where: "f.id = \(id)\(own)", limit: 1).first
    }

    /// Sets a flag's status and note, recording the change. A partner key (`answerer.partner`)
    /// may only explain its own flags; `corrected` is the service's; a closed flag is not reopened by a partner.
    public static func answer(
        _ connection: Connection, id: Int, status: QualityFlag.Status?, note: String?, by answerer: KeyHolder
    ) throws -> QualityFlag {
        guard let flag = try find(connection, id: id, visibleTo: answerer.partner) else {
            throw DomainError.notFound("No flag \(id).")
        }
        let next = status ?? (answerer.partner == nil ? flag.status : .explained)
        switch (next, answerer.partner) {
        case (.corrected, _):
            throw DomainError.invalid(
                field: "status", code: "invalid-status",
                "corrected is set by the service when a corrected value no longer warns")
        case (.explained, _?) where flag.status.isStanding: break
        case (_, _?) where !flag.status.isStanding:
            throw DomainError.conflict(
                code: "flag-closed", "Flag \(id) is \(flag.status.rawValue); ask the coordinator to reopen it.")
        case (let other, _?):
            throw DomainError.forbidden(
                "A partner key explains its flags (status explained); \(other.rawValue) is the coordinator's.")
        default: break
        }
        if next == .explained, (note ?? flag.note)?.isEmpty ?? true {
            throw DomainError.invalid(field: "note", code: "required", "an explanation needs a note")
        }
        if next.isStanding, !flag.status.isStanding, let standing = try standingSibling(connection, of: flag) {
            throw DomainError.conflict(
                code: "flag-standing",
                "Flag \(standing) stands for the same \(flag.kind == .rule ? "rule and cell" : "value"); answer that one."
            )
        }
        do {
            try connection.query(
                """
                WITH changed AS (
                    UPDATE quality_flags SET status = \(next.rawValue), note = coalesce(\(note), note), updated_at = now()
                    WHERE id = \(id) RETURNING id
                )
                INSERT INTO quality_flag_history (flag_id, status, note, key_id)
                SELECT id, \(next.rawValue), \(note), \(answerer.keyID) FROM changed
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            // Another flag was opened for the same value at the same moment.
            throw DomainError.conflict(
                code: "flag-standing", "Another flag stands for the same value; answer that one.")
        }
        if flag.status.isStanding != next.isStanding {
            try ChangeEvents.flags(connection, ids: [id], next.isStanding ? .flagOpened : .flagClosed)
        }
        return try find(connection, id: id, visibleTo: nil)!
    }

    /// The flag other than `flag` that stands for its value (an outlier) or its rule and cell.
    private static func standingSibling(_ connection: Connection, of flag: QualityFlag) throws -> Int? {
        let same: Query =
            flag.kind == .outlier
            ? "measurement_id = \(flag.measurement) AND kind = 'outlier'"
            : "kind = 'rule' AND rule_id = \(flag.rule) AND partner_id = \(flag.partner) AND neighborhood_code = \(flag.neighborhood) AND period = \(flag.period)"
        return try connection.query(
            "SELECT id FROM quality_flags WHERE \(same) AND status IN ('open', 'explained') AND id <> \(flag.id)"
        ).first?.decode(Int.self, at: 0)
    }

    /// How many flags stand per partner and indicator under `filter`, by partner then indicator.
    public static func standingCounts(_ connection: Connection, filter: Filter) throws
        -> [(partner: String, indicator: String, count: Int)]
    {
        var standing = filter
        standing.standingOnly = true
        return try connection.query(
            "SELECT f.partner_id, f.indicator_code, count(*) FROM quality_flags f WHERE \(conditions(standing)) GROUP BY 1, 2 ORDER BY 1, 2"
        ).map { try $0.decode((String, String, Int).self) }
    }

    /// The values of the flagged measurement's series up to its period (at most `limit`, the
    /// latest), oldest first; empty once the measurement is retracted.
    public static func series(_ connection: Connection, of flag: QualityFlag, limit: Int = 13) throws
        -> [(period: String, value: Double?, numerator: Double?, denominator: Double?)]
    {
        try connection.query(
            """
            SELECT s.period, s.value, s.numerator, s.denominator FROM measurements m
            JOIN measurements s ON s.indicator_code = m.indicator_code AND s.partner_id = m.partner_id
                 AND s.neighborhood_code = m.neighborhood_code AND s.dimension_key = m.dimension_key
                 AND s.period_start <= m.period_start
            WHERE m.id = \(flag.measurement) ORDER BY s.period_start DESC LIMIT \(limit)
            """
        ).map { try $0.decode((String, Double?, Double?, Double?).self) }.reversed()
    }

    private static func conditions(_ filter: Filter) -> Query {
        var conditions: [Query] = ["TRUE"]
        if let agenda = filter.agenda {
            conditions.append("f.indicator_code IN (SELECT code FROM indicators WHERE agenda_id = \(agenda))")
        }
        if let partner = filter.partner { conditions.append("f.partner_id = \(partner)") }
        if let indicator = filter.indicator { conditions.append("f.indicator_code = \(indicator)") }
        if let status = filter.status { conditions.append("f.status = \(status.rawValue)") }
        if let kind = filter.kind { conditions.append("f.kind = \(kind.rawValue)") }
        if filter.standingOnly { conditions.append("f.status IN ('open', 'explained')") }
        if let from = filter.from { conditions.append("f.period_start >= \(from.start)") }
        if let to = filter.to { conditions.append("f.period_start < \(to.end)") }
        return Query.joined(conditions, separator: " AND ")
    }

    private static func read(_ connection: Connection, where condition: Query, limit: Int) throws -> [QualityFlag] {
        let rows = try connection.query(
            """
            SELECT f.id, f.measurement_id, f.partner_id, f.indicator_code, f.neighborhood_code, f.period, f.kind, f.rule_id,
                   f.score, f.expected_low, f.expected_high, f.message, f.status, f.note, f.opened_at, f.updated_at
            FROM quality_flags f WHERE \(condition) ORDER BY f.id LIMIT \(limit)
            """)
        var flags = try rows.map { row in
            let (id, measurement, partner, indicator, neighborhood, period, kind, rule) =
                try row.decode((Int, Int, String, String, String, String, String, String?).self)
            let low = try row.decode(Double?.self, at: 9)
            let high = try row.decode(Double?.self, at: 10)
            return QualityFlag(
                id: id, measurement: measurement, partner: partner, indicator: indicator, neighborhood: neighborhood,
                period: period, kind: try .stored(kind, column: "quality_flags.kind"), rule: rule,
                score: try row.decode(Double?.self, at: 8),
                expected: low.flatMap { low in high.map { low...Swift.max(low, $0) } },
                message: try row.decode(String.self, at: 11),
                status: try .stored(try row.decode(String.self, at: 12), column: "quality_flags.status"),
                note: try row.decode(String?.self, at: 13), openedAt: try row.decode(Date.self, at: 14),
                updatedAt: try row.decode(Date.self, at: 15), history: [])
        }
        guard !flags.isEmpty else { return flags }
        let position = Dictionary(uniqueKeysWithValues: flags.enumerated().map { ($1.id, $0) })
        for row in try connection.query(
            """
            SELECT flag_id, status, note, key_id, at FROM quality_flag_history
            WHERE flag_id = ANY(\(flags.map(\.id))::bigint[]) ORDER BY id
            """)
        {
            let (flagID, status, note, key, at) = try row.decode((Int, String, String?, String?, Date).self)
            flags[position[flagID]!].history.append(
                QualityFlag.Change(
                    status: try .stored(status, column: "quality_flag_history.status"), note: note, key: key, at: at))
        }
        return flags
    }
}
