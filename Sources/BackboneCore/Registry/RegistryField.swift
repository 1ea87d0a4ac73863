/// One field of a registry resource: its wire name, its column, its type and rules.
public struct RegistryField: Sendable {
    public enum Kind: Sendable {
        case slug
        case text(maxLength: Int)
        case email
        case choice([String])
        case date
        case number
        case integer(minimum: Int)
        case bool
        /// A slug naming a row of another resource.
        case reference
        /// `{period, value}`, stored as `<column>_period` and `<column>_value`.
        case periodValue
        /// `[{name, values: [..]}]`, stored as jsonb.
        case dimensions
    }

    public let name: String
    public let column: String
    public let kind: Kind
    public let requiredOnCreate: Bool
    /// Fixed once created (the key).
    public let immutable: Bool
    /// Lists accept `?name=value` for it.
    public let filterable: Bool

    public init(
        _ name: String, column: String? = nil, _ kind: Kind, required: Bool = false, immutable: Bool = false,
        filterable: Bool = false
    ) {
        self.name = name
        self.column = column ?? name
        self.kind = kind
        self.requiredOnCreate = required
        self.immutable = immutable
        self.filterable = filterable
    }

    /// The columns that store this field.
    var storedColumns: [String] {
        if case .periodValue = kind { return ["\(column)_period", "\(column)_value"] }
        return [column]
    }
}
