import Aggregation
import Foundation
import JSON
import Postgres

/// A stored measurement as the API returns it.
public struct MeasurementRecord: Sendable {
    public var id: Int
    public var partner: String
    public var indicator: String
    public var neighborhood: String
    public var period: String
    public var value: Double?
    public var numerator: Double?
    public var denominator: Double?
    public var dimensions: [String: String]
    public var note: String?
    public var batchID: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int, partner: String, indicator: String, neighborhood: String, period: String, value: Double?,
        numerator: Double?,
        denominator: Double?, dimensions: [String: String], note: String?, batchID: String, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.partner = partner
        self.indicator = indicator
        self.neighborhood = neighborhood
        self.period = period
        self.value = value
        self.numerator = numerator
        self.denominator = denominator
        self.dimensions = dimensions
        self.note = note
        self.batchID = batchID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The stored values of a measurement at one moment, as its audit trail keeps them.
public struct MeasurementSnapshot: Sendable, Equatable {
    public var value: Double?
    public var numerator: Double?
    public var denominator: Double?
    public var note: String?

    /// Reads a snapshot as `MeasurementWriter.snapshot` stores it (the jsonb as text):
    /// an object of exactly these four members, numbers or strings or null; anything else
    /// is an error, never a partly empty snapshot.
    static func parse(_ text: String) throws -> MeasurementSnapshot {
        func failure() -> DomainError {
            .storedData(
                column: "measurement_history",
                "holds the snapshot \(text.prefix(80).debugDescription), which is not an object of value, numerator, denominator and note"
            )
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(Data(text.utf8)) } catch { throw failure() }
        guard case .object(let members) = parsed, Set(members.keys) == ["value", "numerator", "denominator", "note"]
        else { throw failure() }
        func number(_ name: String) throws -> Double? {
            switch members[name] {
            case .number(let value): return value
            case .null: return nil
            default: throw failure()
            }
        }
        let note: String?
        switch members["note"] {
        case .string(let text): note = text
        case .null: note = nil
        default: throw failure()
        }
        return MeasurementSnapshot(
            value: try number("value"), numerator: try number("numerator"), denominator: try number("denominator"),
            note: note)
    }
}

/// One entry of a measurement's audit trail.
public struct HistoryEntry: Sendable {
    public var action: String
    public var at: Date
    public var key: String
    public var batchID: String?
    /// The values before the change; nil for `created`.
    public var old: MeasurementSnapshot?
    /// The values after the change; nil for `retracted`.
    public var new: MeasurementSnapshot?
}

/// Reading back, retracting and auditing stored measurements.
public enum MeasurementRecords {
    /// Filters for a list; `partner` is forced to the caller's own for partner keys.
    public struct Filter: Sendable {
        public var indicator: String?
        public var partner: String?
        public var neighborhood: String?
        public var from: Period?
        public var to: Period?
        /// Only rows whose period lies inside this one (of any type: `2026-Q1` takes the months of Q1).
        public var period: Period?
        /// Only rows stored by this submission.
        public var batchID: String?

        public init(
            indicator: String? = nil, partner: String? = nil, neighborhood: String? = nil, from: Period? = nil,
            to: Period? = nil,
            period: Period? = nil, batchID: String? = nil
        ) {
            self.indicator = indicator
            self.partner = partner
            self.neighborhood = neighborhood
            self.from = from
            self.to = to
            self.period = period
            self.batchID = batchID
        }
    }

    static let columns = Query(
        unsafeSQL: """
            id, partner_id, indicator_code, neighborhood_code, period, value, numerator, denominator,
            dimensions::text, note, batch_id, created_at, updated_at
            """)

    static func decode(_ row: Row) throws -> MeasurementRecord {
        let (
            id, partner, indicator, neighborhood, period, value, numerator, denominator, dimensions, note, batch,
            created, updated
        ) =
            try row.decode(
                (Int, String, String, String, String, Double?, Double?, Double?, String, String?, UUID, Date, Date).self
            )
        return MeasurementRecord(
            id: id, partner: partner, indicator: indicator, neighborhood: neighborhood, period: period, value: value,
            numerator: numerator, denominator: denominator,
            dimensions: try DimensionValues.parse(dimensions),
            note: note, batchID: batch.uuidString.lowercased(), createdAt: created, updatedAt: updated)
    }

    /// Measurements in id order after `cursor`.
    public static func list(_ connection: Connection, filter: Filter, after cursor: Int?, limit: Int) throws
        -> [MeasurementRecord]
    {
        try connection.query(
            "SELECT \(columns) FROM measurements WHERE \(conditions(filter, after: cursor)) ORDER BY id LIMIT \(limit)"
        ).map(decode)
    }

    /// The dimension names the selected measurements carry, sorted (an export's `dim.NAME` columns).
    public static func dimensionNames(_ connection: Connection, filter: Filter) throws -> [String] {
        try connection.query(
            """
            SELECT DISTINCT name FROM measurements, jsonb_object_keys(dimensions) AS name
            WHERE \(conditions(filter, after: nil)) ORDER BY name
            """
        ).map { try $0.decode(String.self, at: 0) }
    }

    static func conditions(_ filter: Filter, after cursor: Int?) -> Query {
        var conditions: [Query] = ["TRUE"]
        if let indicator = filter.indicator { conditions.append("indicator_code = \(indicator)") }
        if let partner = filter.partner { conditions.append("partner_id = \(partner)") }
        if let neighborhood = filter.neighborhood { conditions.append("neighborhood_code = \(neighborhood)") }
        if let from = filter.from { conditions.append("period_start >= \(from.start)") }
        if let to = filter.to { conditions.append("period_start < \(to.end)") }
        if let period = filter.period {
            // A row's period ends one year, quarter, week or month after it starts, as its text says.
            conditions.append(
                """
                period_start >= \(period.start) AND period_start + CASE
                    WHEN period ~ '^[0-9]{4}$' THEN interval '1 year' WHEN period LIKE '%-Q%' THEN interval '3 months'
                    WHEN period LIKE '%-W%' THEN interval '7 days' ELSE interval '1 month' END <= \(period.end)
                """)
        }
        if let batchID = filter.batchID { conditions.append("batch_id::text = \(batchID.lowercased())") }
        if let cursor { conditions.append("id > \(cursor)") }
        return Query.joined(conditions, separator: " AND ")
    }

    /// One measurement, if it exists and (for a partner) belongs to `partner`.
    public static func find(_ connection: Connection, id: Int, visibleTo partner: String?) throws -> MeasurementRecord?
    {
        let rows = try connection.query(
            "SELECT \(columns) FROM measurements WHERE id = \(id) AND (\(partner)::text IS NULL OR partner_id = \(partner))"
        )
        return try rows.first.map(decode)
    }

    /// Removes a measurement and records the retraction. Partners cannot retract in a locked period.
    public static func retract(_ connection: Connection, id: Int, visibleTo partner: String?, keyID: String) throws {
        guard let record = try find(connection, id: id, visibleTo: partner) else {
            throw DomainError.notFound("No measurement \(id).")
        }
        var locked: (agenda: String, lock: PeriodLock)?
        if let period = Period(record.period) {
            var probe = SubmittedRow(row: 0)
            probe.indicator = record.indicator
            let context = try IngestionContext.load(connection, for: [probe], defaultPartner: nil)
            if let rules = context.indicators[record.indicator],
                let lock = context.locks.first(where: { $0.covers(indicator: rules, period: period) })
            {
                locked = (rules.agenda, lock)
            }
        }
        if partner != nil, let lock = locked?.lock {
            throw DomainError.conflict(
                code: "period-locked",
                "\(record.period) is locked (lock \(lock.period)); ask the coordinator to correct it.")
        }
        // The 'created' entry was read from the row; with the row gone it is stored.
        try connection.query(
            """
            WITH removed AS (DELETE FROM measurements WHERE id = \(id) RETURNING *),
            created AS (
                INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, batch_id, at, new_value)
                SELECT id, partner_id, 'created', created_by, created_batch_id, created_at, \(firstValue(of: "removed"))
                FROM removed WHERE created_by IS NOT NULL
            )
            INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, batch_id, old_value)
            SELECT id, partner_id, 'retracted', \(keyID), NULL, \(MeasurementWriter.snapshot(of: "removed")) FROM removed
            """)
        try FlagRecorder.retracted(
            connection, measurementID: id, indicator: record.indicator,
            cell: RuleCheck.CellKey(partner: record.partner, neighborhood: record.neighborhood, period: record.period),
            keyID: keyID)
        if let locked { try ChangeEvents.retracted(connection, record, agenda: locked.agenda) }
    }

    /// The values a measurement was created with: those its first update replaced, or its
    /// current ones if it was never updated.
    private static func firstValue(of alias: String) -> Query {
        """
        coalesce((SELECT h.old_value FROM measurement_history h WHERE h.measurement_id = \(unsafe: alias).id
                  AND h.action = 'updated' ORDER BY h.id LIMIT 1), \(MeasurementWriter.snapshot(of: alias)))
        """
    }

    /// The audit trail of a measurement, oldest first; it outlives a retraction.
    public static func history(_ connection: Connection, id: Int, visibleTo partner: String?) throws -> [HistoryEntry] {
        let rows = try connection.query(
            """
            SELECT action, at, key_id, batch_id, old_value::text, new_value::text FROM (
                SELECT id, action, at, key_id, batch_id, old_value, new_value FROM measurement_history
                WHERE measurement_id = \(id) AND (\(partner)::text IS NULL OR partner_id = \(partner))
                UNION ALL
                SELECT 0, 'created', m.created_at, m.created_by, m.created_batch_id, NULL, \(firstValue(of: "m"))
                FROM measurements m
                WHERE m.id = \(id) AND m.created_by IS NOT NULL AND (\(partner)::text IS NULL OR m.partner_id = \(partner))
            ) AS entries
            ORDER BY action <> 'created', id
            """)
        return try rows.map { row in
            let (action, at, key, batch, old, new) = try row.decode(
                (String, Date, String, UUID?, String?, String?).self)
            return HistoryEntry(
                action: action, at: at, key: key, batchID: batch?.uuidString.lowercased(),
                old: try old.map(MeasurementSnapshot.parse), new: try new.map(MeasurementSnapshot.parse))
        }
    }
}
