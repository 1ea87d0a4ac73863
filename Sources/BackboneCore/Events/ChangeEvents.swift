import Aggregation
import DomainModel
import Foundation
import JSON
import Postgres

/// The events changes write into the outbox, each in the change's own transaction, with the
/// `data` docs/events.md#events documents. Counts and keys only: never a measured value.
enum ChangeEvents {
    /// At most this many changed values are listed in one `measurements.corrected` event
    /// (its `count` counts them all).
    static let correctionLimit = 1000

    /// One `measurements.submitted` per partner of a stored batch whose values it created or
    /// changed, with that partner's counts alone.
    static func submitted(
        _ connection: Connection, batchID: UUID, parsed: Submission, defaultPartner: String?, accepted: [ValidRow],
        outcome: MeasurementWriter.Outcome, indicators: [String: Indicator]
    ) throws {
        let batch = batchID.uuidString.lowercased()
        let partners = Array(Set(accepted.map(\.partner))).sorted()
        guard !partners.isEmpty, outcome.created + outcome.updated > 0 else { return }
        var counts: [String: (created: Int, updated: Int)] = [:]
        if partners.count == 1 {
            counts[partners[0]] = (outcome.created, outcome.updated)
        } else if outcome.created == accepted.count {
            // A coordinator's batch of new rows for several partners: every row was created.
            for row in accepted { counts[row.partner, default: (0, 0)].created += 1 }
        } else {
            // A coordinator's batch for several partners that changed stored rows: each
            // partner's own counts, read back by the batch's keys (not the partners' whole
            // history, which grows to millions of rows).
            for row in try connection.query(
                """
                SELECT m.partner_id, count(*) FILTER (WHERE m.created_batch_id = \(batchID)),
                       count(*) FILTER (WHERE m.created_batch_id IS DISTINCT FROM \(batchID))
                FROM \(MeasurementWriter.storedByKey(accepted))
                WHERE m.batch_id = \(batchID)
                GROUP BY m.partner_id
                """)
            {
                let (partner, created, updated) = try row.decode((String, Int, Int).self)
                counts[partner] = (created, updated)
            }
        }
        let rowsByPartner = Dictionary(grouping: accepted, by: \.partner)
        var receivedByPartner: [String: Int] = [:]
        for row in parsed.rows {
            if let partner = row.partner ?? defaultPartner { receivedByPartner[partner, default: 0] += 1 }
        }
        for partner in partners {
            let (created, updated) = counts[partner] ?? (0, 0)
            guard created + updated > 0 else { continue }
            let rows = rowsByPartner[partner] ?? []
            let received = receivedByPartner[partner] ?? 0
            let agendas = Set(rows.compactMap { indicators[$0.indicator]?.agenda })
            try Outbox.append(
                connection, .measurementsSubmitted, agenda: agendas.count == 1 ? agendas.first : nil, partner: partner,
                data: .object([
                    "batch_id": .string(batch), "partner": .string(partner), "received": JSONValue(received),
                    "created": JSONValue(created), "updated": JSONValue(updated),
                    "unchanged": JSONValue(rows.count - created - updated),
                    "rejected": JSONValue(max(received - rows.count, 0)),
                    "indicators": .array(Set(rows.map(\.indicator)).sorted().map { .string($0) }),
                    "periods": .array(
                        Set(rows.map(\.period)).sorted().map { .string($0.description) }),
                ]))
        }
    }

    /// One `measurements.corrected` per partner for the values a coordinator's batch created
    /// or changed in locked periods.
    static func corrected(
        _ connection: Connection, batchID: UUID, accepted: [ValidRow], context: IngestionContext
    ) throws {
        let locked = accepted.filter { row in
            guard let rules = context.indicators[row.indicator] else { return false }
            return context.locks.contains { $0.covers(indicator: rules, period: row.period) }
        }
        guard !locked.isEmpty else { return }
        let rows = try connection.query(
            """
            SELECT m.id, m.partner_id, m.indicator_code, m.neighborhood_code, m.period,
                   CASE WHEN m.created_batch_id = \(batchID) THEN 'created' ELSE 'updated' END
            FROM unnest(\(locked.map(\.partner))::text[], \(locked.map(\.indicator))::text[],
                        \(locked.map(\.neighborhood))::text[], \(locked.map(\.period.description))::text[],
                        \(locked.map(\.dimensionKey))::text[])
                 AS r(partner, indicator, neighborhood, period, dimension_key)
            JOIN measurements m ON m.indicator_code = r.indicator AND m.partner_id = r.partner
                 AND m.neighborhood_code = r.neighborhood AND m.period = r.period AND m.dimension_key = r.dimension_key
            WHERE m.batch_id = \(batchID)
            ORDER BY m.partner_id, m.id
            """)
        var byPartner: [(partner: String, agendas: Set<String>, changes: [JSONValue])] = []
        for row in rows {
            let (id, partner, indicator, neighborhood, period, action) =
                try row.decode((Int, String, String, String, String, String).self)
            let change = change(
                measurement: id, indicator: indicator, neighborhood: neighborhood, period: period, action: action)
            let agenda = context.indicators[indicator]?.agenda
            if byPartner.last?.partner == partner {
                byPartner[byPartner.count - 1].changes.append(change)
                if let agenda { byPartner[byPartner.count - 1].agendas.insert(agenda) }
            } else {
                byPartner.append((partner, Set([agenda].compactMap { $0 }), [change]))
            }
        }
        for (partner, agendas, changes) in byPartner {
            try appendCorrected(
                connection, agenda: agendas.count == 1 ? agendas.first : nil, partner: partner,
                batch: batchID.uuidString.lowercased(), changes: changes)
        }
    }

    /// A `measurements.corrected` for one retracted value.
    static func retracted(_ connection: Connection, _ record: MeasurementRecord, agenda: String?) throws {
        try appendCorrected(
            connection, agenda: agenda, partner: record.partner, batch: nil,
            changes: [
                change(
                    measurement: record.id, indicator: record.indicator, neighborhood: record.neighborhood,
                    period: record.period, action: "retracted")
            ])
    }

    private static func change(
        measurement: Int, indicator: String, neighborhood: String, period: String, action: String
    )
        -> JSONValue
    {
        .object([
            "measurement": JSONValue(measurement), "indicator": .string(indicator),
            "neighborhood": .string(neighborhood), "period": .string(period), "action": .string(action),
        ])
    }

    private static func appendCorrected(
        _ connection: Connection, agenda: String?, partner: String, batch: String?, changes: [JSONValue]
    ) throws {
        let listed = Array(changes.prefix(correctionLimit))
        try Outbox.append(
            connection, .measurementsCorrected, agenda: agenda, partner: partner,
            data: .object([
                "partner": .string(partner), "batch_id": JSONValue(batch), "count": JSONValue(changes.count),
                "changes": .array(listed), "truncated": .bool(changes.count > listed.count),
            ]))
    }

    /// `period.locked` for a lock just made.
    static func locked(_ connection: Connection, _ lock: PeriodLock, agenda: String?) throws {
        try Outbox.append(
            connection, .periodLocked, agenda: agenda, partner: nil,
            data: .object([
                "lock": JSONValue(lock.id), "agenda": JSONValue(lock.agenda), "indicator": JSONValue(lock.indicator),
                "period": .string(lock.period), "reason": JSONValue(lock.reason),
            ]))
    }

    /// `release.published` for a release just made (by the coordinator or automatically).
    static func released(_ connection: Connection, _ release: Release) throws {
        try Outbox.append(
            connection, .releasePublished, agenda: release.agenda, partner: nil,
            data: .object([
                "release": JSONValue(release.id), "agenda": .string(release.agenda),
                "period": .string(release.period), "revision": JSONValue(release.revision),
                "automatic": .bool(release.automatic),
                "indicators": .array(release.indicators.map { .string($0.indicator) }),
            ]))
    }

    /// `publication.published`; its `audience` says who may receive it: a `coordinator`
    /// publication goes to the coordinator's endpoints only.
    static func published(_ connection: Connection, _ publication: Publication) throws {
        try Outbox.append(
            connection, .publicationPublished, agenda: publication.agenda, partner: nil,
            data: .object([
                "publication": JSONValue(publication.id), "agenda": .string(publication.agenda),
                "period": .string(publication.period.description), "title": .string(publication.title),
                "audience": .string(publication.audience.rawValue),
                "json_sha256": .string(publication.jsonSHA256), "html_sha256": .string(publication.htmlSHA256),
            ]))
    }

    /// `flag.opened` or `flag.closed` for each of these flags, as they stand now, to its partner.
    static func flags(_ connection: Connection, ids: [Int], _ type: EventType) throws {
        guard !ids.isEmpty else { return }
        let rows = try connection.query(
            """
            SELECT f.id, f.partner_id, i.agenda_id, f.indicator_code, f.neighborhood_code, f.period, f.kind, f.rule_id,
                   f.status, f.measurement_id
            FROM quality_flags f JOIN indicators i ON i.code = f.indicator_code
            WHERE f.id = ANY(\(ids)::bigint[]) ORDER BY f.id
            """)
        for row in rows {
            let (id, partner, agenda, indicator, neighborhood, period, kind, rule, status, measurement) =
                try row.decode((Int, String, String, String, String, String, String, String?, String, Int).self)
            try Outbox.append(
                connection, type, agenda: agenda, partner: partner,
                data: .object([
                    "flag": JSONValue(id), "partner": .string(partner), "indicator": .string(indicator),
                    "neighborhood": .string(neighborhood), "period": .string(period), "kind": .string(kind),
                    "rule": JSONValue(rule), "status": .string(status), "measurement": JSONValue(measurement),
                ]))
        }
    }
}
