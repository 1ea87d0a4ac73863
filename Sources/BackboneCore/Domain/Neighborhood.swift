import Postgres

/// A geographic area, inside its parent (city → district → neighborhood).
public struct Neighborhood: RegistryRecord, Equatable {
    public var code: String
    public var name: String
    public var parent: String?
    public var population: Int?
    public var active: Bool

    public var key: String { code }
    public static var resource: RegistryResource { .neighborhoods }
    public static let columns = Query(unsafeSQL: "code, name, parent_code, population, active")

    public static func decode(_ row: Row) throws -> Neighborhood {
        let (code, name, parent, population, active) = try row.decode((String, String, String?, Int?, Bool).self)
        return Neighborhood(code: code, name: name, parent: parent, population: population, active: active)
    }

    /// A parent may not be the neighborhood itself or one of its descendants.
    public static func check(_ connection: Connection, old: Neighborhood?, new: Neighborhood) throws {
        guard let parent = new.parent else { return }
        let rows = try connection.query(
            """
            WITH RECURSIVE ancestors(code, depth) AS (
                SELECT \(parent)::text, 1
                UNION ALL
                SELECT n.parent_code, a.depth + 1 FROM neighborhoods n JOIN ancestors a ON n.code = a.code
                WHERE n.parent_code IS NOT NULL AND a.depth < 100
            )
            SELECT EXISTS (SELECT 1 FROM ancestors WHERE code = \(new.code))
            """)
        if try rows[0].decode(Bool.self, at: 0) {
            throw DomainError.invalid(
                field: "parent", code: "cycle",
                "\(parent) lies inside \(new.code); a neighborhood cannot contain its own parent")
        }
    }
}
