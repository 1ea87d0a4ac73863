import Foundation

/// The operations of `openapi.yaml` and the query parameters each lists, read line by
/// line (the contract is written in a regular block style; Yams is not a dependency).
/// Reads `paths:` → `  /path:` → `    get:` → `      parameters:` → `        - …` items,
/// inline (`{name: x, in: query}`), in block style (`name:` and `in:` on the next
/// lines) or `$ref`s to `components/parameters`.
struct OpenAPIOperations {
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var query: [String]

        var description: String { "\(method) \(path)" }
    }

    let operations: [Operation]

    init(_ text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        func field(_ name: String, in item: String) -> String? {
            guard let range = item.range(of: "\(name): ") else { return nil }
            let rest = item[range.upperBound...]
            return String(rest.prefix { !",}\n ".contains($0) }).trimmingCharacters(
                in: CharacterSet(charactersIn: "'\""))
        }
        // Each `- ` item of a list at `itemIndent`, with its deeper lines, starting at `start`.
        func items(from start: Int, itemIndent: Int) -> [String] {
            var result: [String] = []
            var index = start
            while index < lines.count {
                let line = lines[index]
                if line.trimmingCharacters(in: .whitespaces).isEmpty
                    || line.trimmingCharacters(in: .whitespaces).hasPrefix("#")
                {
                    index += 1; continue
                }
                if indent(line) < itemIndent
                    || (indent(line) == itemIndent && !line.dropFirst(itemIndent).hasPrefix("- "))
                {
                    break
                }
                if indent(line) == itemIndent { result.append(line) } else { result[result.count - 1] += "\n" + line }
                index += 1
            }
            return result
        }
        // components/parameters: name → (name, in)
        var components: [String: (name: String, location: String)] = [:]
        if let componentsLine = lines.firstIndex(of: "components:"),
            let parametersLine = lines[componentsLine...].firstIndex(of: "  parameters:")
        {
            var index = parametersLine + 1
            while index < lines.count, indent(lines[index]) >= 4 || lines[index].isEmpty {
                let line = lines[index]
                if indent(line) == 4, line.hasSuffix(":") {
                    let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                    var body = ""
                    var next = index + 1
                    while next < lines.count, indent(lines[next]) > 4 { body += lines[next] + "\n"; next += 1 }
                    if let name = field("name", in: body), let location = field("in", in: body) {
                        components[String(key)] = (name, location)
                    }
                }
                index += 1
            }
        }
        func queryName(_ item: String) throws -> String? {
            if let reference = field("$ref", in: item), reference.hasPrefix("#/components/parameters/") {
                guard let parameter = components[String(reference.dropFirst("#/components/parameters/".count))] else {
                    throw CocoaError(
                        .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "unresolved \(reference)"])
                }
                return parameter.location == "query" ? parameter.name : nil
            }
            return field("in", in: item) == "query" ? field("name", in: item) : nil
        }
        var operations: [Operation] = []
        guard let pathsLine = lines.firstIndex(of: "paths:") else { throw CocoaError(.fileReadCorruptFile) }
        var path = ""
        var pathQuery: [String] = []
        var index = pathsLine + 1
        let methods = ["get", "post", "put", "patch", "delete"]
        while index < lines.count, lines[index].isEmpty || indent(lines[index]) > 0 {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if indent(line) == 2, trimmed.hasPrefix("/"), trimmed.hasSuffix(":") {
                path = String(trimmed.dropLast())
                pathQuery = []
            } else if indent(line) == 4, trimmed == "parameters:" {
                pathQuery = try items(from: index + 1, itemIndent: 6).compactMap(queryName)
            } else if indent(line) == 4, trimmed.hasSuffix(":"), methods.contains(String(trimmed.dropLast())) {
                var query = pathQuery
                var next = index + 1
                while next < lines.count, lines[next].isEmpty || indent(lines[next]) > 4 {
                    if indent(lines[next]) == 6, lines[next].trimmingCharacters(in: .whitespaces) == "parameters:" {
                        query += try items(from: next + 1, itemIndent: 8).compactMap(queryName)
                    }
                    next += 1
                }
                operations.append(Operation(method: String(trimmed.dropLast()).uppercased(), path: path, query: query))
            }
            index += 1
        }
        self.operations = operations
    }
}
