import Aggregation
import DomainModel
import Postgres

/// The registry rows a batch refers to, loaded once per batch.
public struct IngestionContext: Sendable {
    public var indicators: [String: Indicator] = [:]
    public var neighborhoods: [String: Bool] = [:]
    public var partners: [String: Bool] = [:]
    public var locks: [PeriodLock] = []

    /// Loads the indicators, neighborhoods and partners named by `rows`, and the locks on them.
    public static func load(_ connection: Connection, for rows: [SubmittedRow], defaultPartner: String?) throws
        -> IngestionContext
    {
        var context = IngestionContext()
        let indicatorCodes = Array(Set(rows.compactMap(\.indicator)))
        let neighborhoodCodes = Array(Set(rows.compactMap(\.neighborhood)))
        let partnerIDs = Array(Set(rows.compactMap(\.partner) + (defaultPartner.map { [$0] } ?? [])))
        for indicator in try IndicatorStore.list(connection, codes: indicatorCodes) {
            context.indicators[indicator.code] = indicator
        }
        for row in try connection.query(
            "SELECT code, active FROM neighborhoods WHERE code = ANY(\(neighborhoodCodes)::text[])")
        {
            let (code, active) = try row.decode((String, Bool).self)
            context.neighborhoods[code] = active
        }
        for row in try connection.query("SELECT id, active FROM partners WHERE id = ANY(\(partnerIDs)::text[])") {
            let (id, active) = try row.decode((String, Bool).self)
            context.partners[id] = active
        }
        let agendas = Array(Set(context.indicators.values.map(\.agenda)))
        context.locks = try PeriodLocks.covering(
            connection, agendas: agendas, indicators: Array(context.indicators.keys))
        return context
    }
}
