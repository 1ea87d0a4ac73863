import Postgres

/// A participating organization.
public struct Partner: RegistryRecord, Equatable {
    public var id: String
    public var name: String
    public var kind: PartnerKind
    public var level: PartnershipLevel
    public var contactEmail: String?
    public var active: Bool

    public var key: String { id }
    public static var resource: RegistryResource { .partners }
    public static let columns = Query(unsafeSQL: "id, name, kind, level, contact_email, active")

    public static func decode(_ row: Row) throws -> Partner {
        let (id, name, kind, level, contactEmail, active) = try row.decode(
            (String, String, String, String, String?, Bool).self)
        return Partner(
            id: id, name: name, kind: try .stored(kind, column: "partners.kind"),
            level: try .stored(level, column: "partners.level"),
            contactEmail: contactEmail, active: active)
    }
}
