import Aggregation
import DomainModel
import Postgres

/// What one registry write sets: a typed value for each field it names, already checked
/// at the edge (the API reads them from a request body). Fields a write leaves out keep
/// their value; `.null` clears one.
public struct RegistryChanges: Sendable, Equatable {
    /// A field's new value, in the field's own type.
    public enum Value: Sendable, Equatable {
        case null
        case text(String)
        case number(Double)
        case integer(Int)
        case bool(Bool)
        case date(Day)
        case periodValue(Indicator.PeriodValue)
        case dimensions([Dimension])
    }

    /// In the order they were set.
    public private(set) var values: [(field: String, value: Value)] = []

    public init() {}

    public mutating func set(_ field: String, _ value: Value) {
        values.append((field, value))
    }

    public var isEmpty: Bool { values.isEmpty }

    public static func == (lhs: RegistryChanges, rhs: RegistryChanges) -> Bool {
        lhs.values.elementsEqual(rhs.values) { $0.field == $1.field && $0.value == $1.value }
    }
}

extension RegistryField {
    /// The columns a value of this field is stored in, with their binds.
    func assignments(_ value: RegistryChanges.Value) -> [(column: String, value: Query)] {
        switch value {
        case .null where storedColumns.count > 1:
            return storedColumns.map { ($0, Query.bind(nil)) }
        case .null: return [(column, Query.bind(nil))]
        case .text(let text): return [(column, "\(text)")]
        case .number(let number): return [(column, "\(number)")]
        case .integer(let number): return [(column, "\(number)")]
        case .bool(let flag): return [(column, "\(flag)")]
        case .date(let date): return [(column, "\(date)")]
        case .periodValue(let pair):
            return [("\(column)_period", "\(pair.period.description)"), ("\(column)_value", "\(pair.value)")]
        case .dimensions(let list): return [(column, "\(JSONText(Dimension.storedText(list)))")]
        }
    }
}
