import BackboneCore
import DomainModel
import JSON

/// Reading an indicator's `dimensions` from a request body.
extension Dimension {
    /// Validates `[{name, values}]`: slug names, unique, each with unique non-empty values.
    static func parseList(_ value: JSONValue, field: String, into reader: inout FieldReader) -> [Dimension]? {
        guard case .array(let items) = value else {
            reader.fail(field, "wrong-type", "must be an array of {name, values}")
            return nil
        }
        var result: [Dimension] = []
        var valid = true
        for (index, item) in items.enumerated() {
            let path = "\(field)[\(index)]"
            guard case .object(let object) = item else {
                reader.fail(path, "wrong-type", "must be an object {name, values}")
                valid = false
                continue
            }
            var nested = FieldReader(object, row: reader.row, prefix: "\(path).")
            let name = nested.slug("name", required: true)
            var values: [String] = []
            if case .array(let raw)? = nested.raw("values", required: true) {
                for (position, entry) in raw.enumerated() {
                    if case .string(let text) = entry, !text.isEmpty, text.unicodeScalars.count <= 64,
                        !text.unicodeScalars.contains("\u{0}")
                    {
                        if values.contains(text) {
                            nested.fail("values[\(position)]", "duplicate", "\(text) is listed twice")
                        }
                        values.append(text)
                    } else {
                        nested.fail(
                            "values[\(position)]", "wrong-type", "must be a non-empty string of at most 64 characters")
                    }
                }
                if raw.isEmpty { nested.fail("values", "required", "must list at least one value") }
            } else if nested.has("values") {
                nested.fail("values", "wrong-type", "must be an array of strings")
            }
            nested.rejectUnknownFields()
            if let name, result.contains(where: { $0.name == name }) {
                nested.fail("name", "duplicate", "dimension \(name) is declared twice")
            }
            for issue in nested.issues { reader.fail(issue.field, issue.code, issue.message) }
            if nested.issues.isEmpty, let name {
                result.append(Dimension(name: name, values: values))
            } else {
                valid = false
            }
        }
        return valid ? result : nil
    }
}
