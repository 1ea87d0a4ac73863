import Aggregation
import Foundation
import Postgres

/// What an indicator says about the rows reported against it.
public struct IndicatorRules: Sendable {
    public var code: String
    public var agenda: String
    public var valueType: String
    public var aggregation: AggregationMethod
    public var periodType: PeriodType
    public var min: Double?
    public var max: Double?
    public var dimensions: [Dimension]
    public var active: Bool
}

/// A closed period for an agenda or one indicator.
public struct PeriodLock: Sendable {
    public var id: Int
    public var agenda: String?
    public var indicator: String?
    public var period: String
    public var start: Day
    public var end: Day
    public var reason: String?

    func covers(indicator rules: IndicatorRules, period: Period) -> Bool {
        guard agenda == rules.agenda || indicator == rules.code else { return false }
        return period.start >= start && period.start < end
    }
}

/// The registry rows a batch refers to, loaded once per batch.
public struct IngestionContext: Sendable {
    public var indicators: [String: IndicatorRules] = [:]
    public var neighborhoods: [String: Bool] = [:]
    public var partners: [String: Bool] = [:]
    public var locks: [PeriodLock] = []

    /// Loads the indicators, neighborhoods and partners named by `rows`, and the locks on them.
    public static func load(_ connection: Connection, for rows: [SubmittedRow], defaultPartner: String?) throws -> IngestionContext {
        var context = IngestionContext()
        let indicatorCodes = Array(Set(rows.compactMap(\.indicator)))
        let neighborhoodCodes = Array(Set(rows.compactMap(\.neighborhood)))
        let partnerIDs = Array(Set(rows.compactMap(\.partner) + (defaultPartner.map { [$0] } ?? [])))
        for row in try connection.query(
            """
            SELECT code, agenda_id, value_type, aggregation, period_type, min_value, max_value, dimensions::text, active
            FROM indicators WHERE code = ANY(\(indicatorCodes)::text[])
            """)
        {
            let (code, agenda, valueType, aggregation, periodType, min, max, dimensions, active) =
                try row.decode((String, String, String, String, String, Double?, Double?, String, Bool).self)
            context.indicators[code] = IndicatorRules(
                code: code, agenda: agenda, valueType: valueType, aggregation: try AggregationMethod.stored(aggregation, column: "indicators.aggregation"),
                periodType: try PeriodType.stored(periodType, column: "indicators.period_type"), min: min, max: max,
                dimensions: try JSONDecoder().decode([Dimension].self, from: Data(dimensions.utf8)), active: active)
        }
        for row in try connection.query("SELECT code, active FROM neighborhoods WHERE code = ANY(\(neighborhoodCodes)::text[])") {
            let (code, active) = try row.decode((String, Bool).self)
            context.neighborhoods[code] = active
        }
        for row in try connection.query("SELECT id, active FROM partners WHERE id = ANY(\(partnerIDs)::text[])") {
            let (id, active) = try row.decode((String, Bool).self)
            context.partners[id] = active
        }
        let agendas = Array(Set(context.indicators.values.map(\.agenda)))
        context.locks = try PeriodLocks.covering(connection, agendas: agendas, indicators: Array(context.indicators.keys))
        return context
    }
}
