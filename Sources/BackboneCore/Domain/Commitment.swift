import Postgres

/// Which partner reports which indicator (for one neighborhood, or `nil` for any).
public struct Commitment: RegistryRecord, Equatable {
    public var id: Int
    public var partner: String
    public var indicator: String
    public var neighborhood: String?

    public var key: String { String(id) }
    public static var resource: RegistryResource { .commitments }
    public static let columns = Query(unsafeSQL: "id, partner_id, indicator_code, neighborhood_code")

    public static func decode(_ row: Row) throws -> Commitment {
        let (id, partner, indicator, neighborhood) = try row.decode((Int, String, String, String?).self)
        return Commitment(id: id, partner: partner, indicator: indicator, neighborhood: neighborhood)
    }
}
