import Foundation

/// A disaggregation an indicator declares: a name and its allowed values.
public struct Dimension: Sendable, Equatable {
    public var name: String
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }

    /// The stored form of a list (`[{"name": …, "values": [...]}]`, jsonb).
    static func storedText(_ dimensions: [Dimension]) -> String {
        let list = JSONValue.array(dimensions.map { .object(["name": .string($0.name), "values": .array($0.values.map(JSONValue.string))]) })
        return String(decoding: list.jsonBytes, as: UTF8.self)
    }

    /// Reads a stored list strictly: anything but `[{name, values: [strings]}]` is an error.
    static func storedList(_ text: String, column: String) throws -> [Dimension] {
        func failure() -> DomainError {
            .storedData(column: column, "holds \(text.prefix(60).debugDescription), which is not a list of {name, values}")
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
            return Dimension(name: name, values: values)
        }
    }
}

/// The dimension values of one measurement (`age_group` → `25-44`) and their canonical
/// stored text: a compact JSON object with members sorted by name
/// (`{"age_group":"25-44"}`), `""` for none. The text is part of a measurement's natural
/// key, so this spelling is fixed here (it is the one every stored row already has:
/// `/` written `\/`, control characters `\n` or `\u001f`), not left to an encoder's defaults.
public enum DimensionValues {
    public static func key(_ values: [String: String]) -> String {
        guard !values.isEmpty else { return "" }
        var output = "{"
        for (index, name) in values.keys.sorted().enumerated() {
            if index > 0 { output += "," }
            output += quoted(name) + ":" + quoted(values[name]!)
        }
        return output + "}"
    }

    /// Reads stored dimension values (the `dimensions` jsonb as text, or a key) strictly:
    /// anything but an object of strings is an error, never an empty set.
    public static func parse(_ text: String) throws -> [String: String] {
        if text.isEmpty { return [:] }
        func failure() -> DomainError {
            .storedData(column: "measurements.dimensions", "holds \(text.prefix(60).debugDescription), which is not an object of strings")
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(Data(text.utf8)) } catch { throw failure() }
        guard case .object(let members) = parsed else { throw failure() }
        return try members.mapValues { value in
            guard case .string(let text) = value else { throw failure() }
            return text
        }
    }

    static func quoted(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "/") }) {
            return "\"" + text + "\""
        }
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "/": output += "\\/"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{8}": output += "\\b"
            case "\u{c}": output += "\\f"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
