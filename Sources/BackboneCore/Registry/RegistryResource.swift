import Aggregation
import DomainModel
import Postgres

/// A kind of registry record (agenda, indicator, partner, neighborhood, commitment):
/// its table, key and the fields a request may write. `RegistryStore` turns this
/// description into SQL, so every resource gets the same create, list, update and
/// deactivate behaviour; each `RegistryRecord` type says how a row is read back.
public struct RegistryResource: Sendable {
    /// Singular name for messages ("indicator").
    public let name: String
    /// The URL segment and the list's name ("indicators").
    public let path: String
    public let table: String
    /// The field that identifies a record in URLs.
    public let key: RegistryField
    /// Whether the database assigns the key (then it is not in create bodies).
    public let generatedKey: Bool
    public let fields: [RegistryField]
    /// Whether DELETE removes the row instead of setting `active = false`.
    public let deleteRemoves: Bool
    /// Constraint names mapped to the field they concern, so a violation names it.
    public let constraintFields: [String: String]
    /// Whether rows carry an `updated_at` to set on each change.
    public var tracksUpdates = true

    public var allFields: [RegistryField] { [key] + fields }

    public func field(forColumn column: String) -> RegistryField? {
        allFields.first {
            $0.column == column || $0.storedColumns.contains(column) || column.hasPrefix($0.column + "_")
        }
    }
}

extension RegistryResource {
    public static let agendas = RegistryResource(
        name: "agenda", path: "agendas", table: "agendas",
        key: RegistryField("id", .slug, required: true, immutable: true),
        generatedKey: false,
        fields: [
            RegistryField("name", .text(maxLength: 200), required: true),
            RegistryField("vision", .text(maxLength: 4000)),
            RegistryField("starts_on", .date),
            RegistryField("ends_on", .date),
            RegistryField("active", .bool, filterable: true),
            RegistryField("release_after_days", .integer(minimum: 0)),
            RegistryField("reporting_due_days", .integer(minimum: 0)),
        ],
        deleteRemoves: false,
        constraintFields: [
            "agendas_dates_check": "ends_on", "agendas_release_after_days_check": "release_after_days",
            "agendas_reporting_due_days_check": "reporting_due_days",
        ])

    public static let indicators = RegistryResource(
        name: "indicator", path: "indicators", table: "indicators",
        key: RegistryField("code", .slug, required: true, immutable: true),
        generatedKey: false,
        fields: [
            RegistryField("agenda", column: "agenda_id", .reference, required: true, filterable: true),
            RegistryField("name", .text(maxLength: 200), required: true),
            RegistryField("definition", .text(maxLength: 4000)),
            RegistryField("unit", .text(maxLength: 64)),
            RegistryField("value_type", .choice(ValueType.allCases.map(\.rawValue)), required: true, filterable: true),
            RegistryField(
                "aggregation", .choice(AggregationMethod.allCases.map(\.rawValue)), required: true, filterable: true),
            RegistryField(
                "period_type", .choice(PeriodType.allCases.map(\.rawValue)), required: true, filterable: true),
            RegistryField("direction", .choice(Direction.allCases.map(\.rawValue))),
            RegistryField("baseline", .periodValue),
            RegistryField("target", .periodValue),
            RegistryField("min", column: "min_value", .number),
            RegistryField("max", column: "max_value", .number),
            RegistryField("dimensions", .dimensions),
            RegistryField("active", .bool, filterable: true),
        ],
        deleteRemoves: false,
        constraintFields: ["indicators_agenda_fkey": "agenda", "indicators_range_check": "max"])

    public static let partners = RegistryResource(
        name: "partner", path: "partners", table: "partners",
        key: RegistryField("id", .slug, required: true, immutable: true),
        generatedKey: false,
        fields: [
            RegistryField("name", .text(maxLength: 200), required: true),
            RegistryField("kind", .choice(PartnerKind.allCases.map(\.rawValue)), required: true, filterable: true),
            RegistryField("level", .choice(PartnershipLevel.allCases.map(\.rawValue)), filterable: true),
            RegistryField("contact_email", .email),
            RegistryField("active", .bool, filterable: true),
        ],
        deleteRemoves: false,
        constraintFields: [:])

    public static let neighborhoods = RegistryResource(
        name: "neighborhood", path: "neighborhoods", table: "neighborhoods",
        key: RegistryField("code", .slug, required: true, immutable: true),
        generatedKey: false,
        fields: [
            RegistryField("name", .text(maxLength: 200), required: true),
            RegistryField("parent", column: "parent_code", .reference, filterable: true),
            RegistryField("population", .integer(minimum: 0)),
            RegistryField("active", .bool, filterable: true),
        ],
        deleteRemoves: false,
        constraintFields: ["neighborhoods_parent_fkey": "parent", "neighborhoods_not_own_parent": "parent"])

    public static let commitments = RegistryResource(
        name: "commitment", path: "commitments", table: "commitments",
        key: RegistryField("id", .integer(minimum: 1), immutable: true),
        generatedKey: true,
        fields: [
            RegistryField(
                "partner", column: "partner_id", .reference, required: true, immutable: false, filterable: true),
            RegistryField("indicator", column: "indicator_code", .reference, required: true, filterable: true),
            RegistryField("neighborhood", column: "neighborhood_code", .reference, filterable: true),
        ],
        deleteRemoves: true,
        constraintFields: [
            "commitments_partner_fkey": "partner", "commitments_indicator_fkey": "indicator",
            "commitments_neighborhood_fkey": "neighborhood",
        ],
        tracksUpdates: false)
}
