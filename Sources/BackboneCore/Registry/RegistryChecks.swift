import Aggregation
import Postgres

/// Indicator rules no single column can express.
enum IndicatorChecks {
    static func check(_ connection: Connection, old: JSONValue?, new: JSONValue) throws {
        guard let record = new.objectValue, case .string(let periodType)? = record["period_type"],
            case .string(let code)? = record["code"]
        else { return }
        var issues: [FieldIssue] = []
        for field in ["baseline", "target"] {
            if case .object(let pair)? = record[field], case .string(let text)? = pair["period"],
                let period = Period(text), period.type.rawValue != periodType
            {
                issues.append(FieldIssue(
                    field: "\(field).period", code: "period-type-mismatch",
                    message: "\(text) is a \(period.type.rawValue) but the indicator is reported by \(periodType)"))
            }
        }
        if !issues.isEmpty { throw DomainError.invalid(issues) }
        guard let previous = old?.objectValue else { return }
        for field in ["aggregation", "period_type", "value_type"] where previous[field] != record[field] {
            let used = try connection.query("SELECT EXISTS (SELECT 1 FROM measurements WHERE indicator_code = \(code))")
            if try used[0].decode(Bool.self, at: 0) {
                throw DomainError.conflict(
                    code: "indicator-in-use",
                    "Indicator \(code) already has measurements; changing its \(field) would change what they mean. Create a new indicator instead.")
            }
        }
    }
}

/// Neighborhoods form a tree: a parent may not be the neighborhood itself or one of its descendants.
enum NeighborhoodChecks {
    static func check(_ connection: Connection, old: JSONValue?, new: JSONValue) throws {
        guard let record = new.objectValue, case .string(let code)? = record["code"],
            case .string(let parent)? = record["parent"]
        else { return }
        let rows = try connection.query(
            """
            WITH RECURSIVE ancestors(code, depth) AS (
                SELECT \(parent)::text, 1
                UNION ALL
                SELECT n.parent_code, a.depth + 1 FROM neighborhoods n JOIN ancestors a ON n.code = a.code
                WHERE n.parent_code IS NOT NULL AND a.depth < 100
            )
            SELECT EXISTS (SELECT 1 FROM ancestors WHERE code = \(code))
            """)
        if try rows[0].decode(Bool.self, at: 0) {
            throw DomainError.invalid(field: "parent", code: "cycle", "\(parent) lies inside \(code); a neighborhood cannot contain its own parent")
        }
    }
}
