import Aggregation
import DomainModel
import Postgres

/// The checks stories and contributions share: the indicator they are about, the period
/// (of the indicator's period type) and the neighborhood a story may be for.
enum NarrativeScope {
    /// The indicator `code`: unknown is a 404 when `inPath` (the resource addressed does not
    /// exist), else a 422 naming `indicator`; an inactive one is refused (422) when `writing`.
    static func indicator(_ connection: Connection, _ code: String, writing: Bool, inPath: Bool) throws -> Indicator {
        guard let indicator = try IndicatorStore.find(connection, code: code) else {
            if inPath { throw DomainError.notFound("No indicator \(code).") }
            throw DomainError.invalid(field: "indicator", code: "unknown-indicator", "no indicator \(code) exists")
        }
        if writing, !indicator.active {
            throw DomainError.invalid(
                field: "indicator", code: "inactive-indicator", "indicator \(code) is deactivated")
        }
        return indicator
    }

    /// Refuses (422 `period`) a period not of `indicator`'s period type.
    static func check(_ period: Period, of indicator: Indicator) throws {
        guard period.type == indicator.periodType else {
            throw DomainError.invalid(
                field: "period", code: "period-type-mismatch",
                "\(period) is a \(period.type.rawValue) but \(indicator.code) is reported by \(indicator.periodType.rawValue)"
            )
        }
    }

    /// Refuses an unknown neighborhood (422 naming `neighborhood`), and an inactive one when `writing`.
    static func checkNeighborhood(_ connection: Connection, _ code: String, writing: Bool) throws {
        let active = try connection.query("SELECT active FROM neighborhoods WHERE code = \(code)").first?.decode(
            Bool.self, at: 0)
        switch active {
        case nil:
            throw DomainError.invalid(
                field: "neighborhood", code: "unknown-neighborhood", "no neighborhood \(code) exists")
        case false? where writing:
            throw DomainError.invalid(
                field: "neighborhood", code: "inactive-neighborhood", "neighborhood \(code) is deactivated")
        default:
            return
        }
    }

    /// A stored period's text, strictly.
    static func storedPeriod(_ text: String, column: String) throws -> Period {
        guard let period = Period(text) else {
            throw DomainError.storedData(column: column, "holds \(text.debugDescription), which is not a period")
        }
        return period
    }
}
