import DomainModel
import Foundation
import JSON

/// The stored (jsonb) form of an indicator's dimensions.
extension DomainModel.Dimension {
    /// The stored form of a list (`[{"name": …, "values": [...]}]`, jsonb).
    static func storedText(_ dimensions: [DomainModel.Dimension]) -> String {
        let list = JSONValue.array(
            dimensions.map { .object(["name": .string($0.name), "values": .array($0.values.map(JSONValue.string))]) })
        return String(decoding: list.jsonBytes, as: UTF8.self)
    }

    /// Reads a stored list strictly: anything but `[{name, values: [strings]}]` is an error.
    static func storedList(_ text: String, column: String) throws -> [DomainModel.Dimension] {
        func failure() -> DomainError {
            .storedData(
                column: column, "holds \(text.prefix(60).debugDescription), which is not a list of {name, values}")
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(Data(text.utf8)) } catch { throw failure() }
        guard case .array(let items) = parsed else { throw failure() }
        return try items.map { item in
            guard case .object(let object) = item, case .string(let name)? = object["name"],
                case .array(let rawValues)? = object["values"]
            else { throw failure() }
            let values = try rawValues.map { value -> String in
                guard case .string(let text) = value else { throw failure() }
                return text
            }
            return DomainModel.Dimension(name: name, values: values)
        }
    }
}

/// The dimension values of one measurement (`age_group` → `25-44`) and their stored key.
///
/// The key is part of a measurement's natural key (`measurements.dimension_key`, the
/// rollups' primary key), so its spelling is a storage format, fixed here and pinned by
/// tests: `""` for no dimensions, else a compact JSON object `{"name":"value",…}` whose
/// members are written as Foundation's JSON encoder wrote them when the first rows were stored
/// (`/` as `\/`; `"`, `\` escaped; `\b \f \n \r \t`, other control characters as
/// `\u001f`; everything else, non-ASCII included, as its UTF-8) and ordered by comparing
/// each whole written member `"name":"value"` as a Swift string. (For the slug names the
/// registry allows that is the order of the names.)
public enum DimensionValues {
    public static func key(_ values: [String: String]) -> String {
        guard !values.isEmpty else { return "" }
        let members = values.map {
            JSONValue.quoted($0.key, escapingSlashes: true) + ":" + JSONValue.quoted($0.value, escapingSlashes: true)
        }
        return "{" + members.sorted().joined(separator: ",") + "}"
    }

    /// Reads stored dimension values (the `dimensions` jsonb as text, or a key) strictly:
    /// anything but an object of strings is an error, never an empty set.
    public static func parse(_ text: String) throws -> [String: String] {
        if text.isEmpty { return [:] }
        func failure() -> DomainError {
            .storedData(
                column: "measurements.dimensions",
                "holds \(text.prefix(60).debugDescription), which is not an object of strings")
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(Data(text.utf8)) } catch { throw failure() }
        guard case .object(let members) = parsed else { throw failure() }
        return try members.mapValues { value in
            guard case .string(let text) = value else { throw failure() }
            return text
        }
    }
}
