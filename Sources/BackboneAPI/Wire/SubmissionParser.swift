import Aggregation
import BackboneCore
import CSV
import Foundation
import HTTPServer
import JSON

/// Turns a request body into rows, reporting shape problems (wrong types, unknown
/// fields or columns) per row and field.
enum SubmissionParser {
    static let valueFields = ["value", "numerator", "denominator"]

    /// The most rows one submission may hold (JSON or CSV). Submission and validated, a row
    /// costs the server about 2 KiB (4 KiB with every field wrong): 100,000 rows keep one
    /// request's memory to a few hundred MiB whatever the body holds.
    static let maxRows = 100_000

    /// The longest text each field may hold, in JSON and CSV alike (a dimension value is
    /// at most 64 characters, as the registry declares them).
    static let maxLength = ["partner": 64, "indicator": 64, "neighborhood": 64, "period": 16, "note": 2000]
    static let maxDimensionValueLength = 64

    /// The issue with a text field, if any: the same checks as `FieldReader.string`.
    static func textIssue(_ text: String, field: String, maxLength: Int, row: Int) -> DomainError.Issue? {
        if text.utf8.count > maxLength, text.unicodeScalars.count > maxLength {
            return DomainError.Issue(
                row: row, field: field, code: "too-long", message: "must be at most \(maxLength) characters")
        }
        if text.utf8.contains(0) {
            return DomainError.Issue(
                row: row, field: field, code: "invalid", message: "must not contain NUL characters")
        }
        return nil
    }

    /// The body as its content type says: CSV, or JSON (also under a form type, as
    /// `curl -d` sends it, when it is JSON); any other type is a 415.
    static func parse(_ request: HTTPRequest) throws -> Submission {
        let body = Data(request.body.readableBytesView)
        switch request.contentType {
        case "text/csv": return try parseCSV(body)
        case "application/json", nil: return try parseJSON(body)
        case "application/x-www-form-urlencoded"
        where body.first == UInt8(ascii: "{") || body.first == UInt8(ascii: "["):
            return try parseJSON(body)
        case let other?:
            throw Problem(
                status: .unsupportedMediaType, code: "unsupported-media-type", title: "Unsupported media type",
                detail: "Send measurements as application/json or text/csv, not \(other).")
        }
    }

    /// A single row object, `{"measurements": [...]}`, or a bare array of rows. A body the
    /// JSON parser refuses is answered as it says (invalid UTF-8, a duplicate key, a number
    /// beyond 2^53), naming the row from the error's path.
    static func parseJSON(_ data: Data) throws -> Submission {
        let document: JSONValue
        do {
            // An array longer than a submission may be is refused before the rest is built.
            document = try JSONParser.parse(data, maxArrayElements: maxRows)
        } catch {
            if case .tooManyElements = error.reason { throw tooManyRows }
            throw Problem(error, batchKey: "measurements")
        }
        let items: [JSONValue]
        switch document {
        case .array(let rows): items = rows
        case .object(let object):
            if let batch = object["measurements"] {
                guard case .array(let rows) = batch, object.count == 1 else {
                    throw DomainError.invalid(
                        field: "measurements", code: "wrong-type",
                        "must be the only field, an array of measurement rows")
                }
                items = rows
            } else {
                items = [document]
            }
        default:
            throw DomainError.invalid(
                field: "body", code: "wrong-type", "must be a measurement object or {\"measurements\": [...]}")
        }
        var parsed = Submission()
        parsed.received = items.count
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else {
                parsed.issues.append(
                    DomainError.Issue(
                        row: index, field: "row", code: "wrong-type", message: "must be an object, not \(item.typeName)"
                    ))
                continue
            }
            var reader = FieldReader(object, row: index)
            var row = SubmittedRow(row: index)
            row.partner = reader.string("partner", maxLength: maxLength["partner"]!)
            row.indicator = reader.string("indicator", maxLength: maxLength["indicator"]!)
            row.neighborhood = reader.string("neighborhood", maxLength: maxLength["neighborhood"]!)
            row.period = reader.string("period", maxLength: maxLength["period"]!)
            for field in valueFields where reader.has(field) && object[field] != .null {
                row.sentValueFields.insert(field)
            }
            row.value = reader.number("value")
            row.numerator = reader.number("numerator")
            row.denominator = reader.number("denominator")
            row.note = reader.string("note", maxLength: maxLength["note"]!)
            if let dimensions = reader.object("dimensions") {
                for (name, value) in dimensions {
                    if case .string(let text) = value {
                        if let issue = textIssue(
                            text, field: "dimensions.\(name)", maxLength: maxDimensionValueLength, row: index)
                        {
                            reader.fail(issue.field, issue.code, issue.message)
                            continue
                        }
                        row.dimensions[name] = text
                    } else {
                        reader.fail("dimensions.\(name)", "wrong-type", "must be a string, not \(value.typeName)")
                    }
                }
            }
            reader.rejectUnknownFields()
            row.unreadableFields.formUnion(reader.issues.map(\.field))
            parsed.issues += reader.issues
            parsed.rows.append(row)
        }
        return parsed
    }

    /// Whether a field may start or end with spaces or tabs (spreadsheets pad numbers): a
    /// blank next to a comma, a line break, or either end of the body. Only then does the
    /// CSV reader trim fields, which costs it more than reading them.
    static func hasPaddedFields(_ data: Data) -> Bool {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        func isBoundary(_ byte: UInt8) -> Bool { byte == UInt8(ascii: ",") || byte == 0x0A || byte == 0x0D }
        guard let first = data.first, let last = data.last else { return false }
        if isBlank(first) || isBlank(last) { return true }
        var previous = first
        for byte in data.dropFirst() {
            if (isBlank(byte) && isBoundary(previous)) || (isBoundary(byte) && isBlank(previous)) { return true }
            previous = byte
        }
        return false
    }

    static let csvColumns: Set<String> = [
        "partner", "indicator", "neighborhood", "period", "value", "numerator", "denominator", "note",
    ]

    /// A header name as a column: case and spacing do not matter (` Value ` is `value`,
    /// `Dim. Age Group` is `dim.age_group`).
    static func normalizedColumn(_ name: String) -> String {
        let words = name.lowercased().split(whereSeparator: \.isWhitespace)
        return words.joined(separator: "_").replacingOccurrences(of: "._", with: ".").replacingOccurrences(
            of: "_.", with: ".")
    }

    /// `;` when the header row has semicolons and no commas (a European spreadsheet's
    /// export), otherwise `,`.
    static func separator(of data: Data) -> UInt8 {
        let firstLine = data.prefix { $0 != 0x0A && $0 != 0x0D }
        let semicolons = firstLine.count { $0 == UInt8(ascii: ";") }
        let commas = firstLine.count { $0 == UInt8(ascii: ",") }
        return semicolons > 0 && commas == 0 ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }

    /// A spreadsheet export: header row, optional BOM, CRLF, quoted fields, blank lines;
    /// comma- or semicolon-separated. Every field is held to the same rules as in JSON; a
    /// quote that is never closed is refused, naming its line (nothing is read past it).
    static func parseCSV(_ data: Data) throws -> Submission {
        let delimiter = separator(of: data)
        let reader = try csvReader(data, delimiter: delimiter)
        let header = try csvHeader(reader, delimiter: delimiter)
        var parsed = Submission()
        parsed.firstLine = 1
        var number = 0
        while let fields = reader.next() {
            number += 1
            if fields.allSatisfy(\.isEmpty) { continue }  // blank lines, such as a trailing one
            parsed.received += 1
            if parsed.received > maxRows { throw tooManyRows }
            parsed.rows.append(
                csvRow(fields, number: number, header: header, delimiter: delimiter, issues: &parsed.issues))
        }
        if let error = reader.error {
            throw DomainError.malformed(
                code: "malformed-csv", "The CSV could not be read after row \(number): \(error)")
        }
        return parsed
    }

    /// The file's header as written and the rows `keep` selects by row number, each as its
    /// fields' text: the same reading and row numbers as `parseCSV`, for showing a file as
    /// it was sent (the dashboard's upload page).
    static func csvCells(_ data: Data, keep: (Int) -> Bool) throws -> (
        header: [String], rows: [(row: Int, fields: [String])]
    ) {
        let reader = try csvReader(data, delimiter: separator(of: data))
        var header = reader.headerRow ?? []
        while header.last?.isEmpty == true { header.removeLast() }
        var rows: [(row: Int, fields: [String])] = []
        var number = 0
        while let fields = reader.next() {
            number += 1
            if !fields.allSatisfy(\.isEmpty), keep(number) { rows.append((number, fields)) }
        }
        return (header, rows)
    }

    /// The field a CSV column fills, as errors name it (`dim.age_group` fills `dimensions.age_group`).
    static func field(ofColumn name: String) -> String {
        let column = normalizedColumn(name)
        return column.hasPrefix("dim.") ? "dimensions." + column.dropFirst(4) : column
    }

    /// A reader over the file's rows once it is known to be UTF-8 text with its quotes paired.
    private static func csvReader(_ data: Data, delimiter: UInt8) throws -> CSVReader {
        if let fault = UnpairedQuote.check(data, delimiter: delimiter) { throw malformed(fault, body: data) }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DomainError.malformed(code: "malformed-csv", "The CSV is not UTF-8 text.")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if text.allSatisfy(\.isWhitespace) {
            throw DomainError.malformed(
                code: "empty-file",
                "The file is empty: send a header row (partner,indicator,neighborhood,period,value,…) and a row per measurement."
            )
        }
        do {
            return try CSVReader(
                string: text, hasHeaderRow: true, trimFields: hasPaddedFields(data),
                delimiter: delimiter == UInt8(ascii: ";") ? ";" : ",")
        } catch {
            throw DomainError.malformed(code: "malformed-csv", "The CSV could not be read: \(error)")
        }
    }

    /// The header's columns, normalised; every column unnamed, repeated or unknown is an issue.
    private static func csvHeader(_ reader: CSVReader, delimiter: UInt8) throws -> [String] {
        guard let rawHeader = reader.headerRow, !rawHeader.allSatisfy(\.isEmpty) else {
            throw DomainError.malformed(code: "malformed-csv", "The CSV needs a header row naming its columns.")
        }
        // Spreadsheets leave empty columns at the end (`,,`); they name nothing.
        var header = rawHeader.map(normalizedColumn)
        while header.last == "" { header.removeLast() }
        var issues: [DomainError.Issue] = []
        var seen: Set<String> = []
        for (index, column) in header.enumerated() {
            if column.isEmpty {
                issues.append(
                    DomainError.Issue(
                        field: "column \(index + 1)", code: "unnamed-column", message: "has no name in the header row"))
            } else if !seen.insert(column).inserted {
                issues.append(
                    DomainError.Issue(
                        field: column, code: "duplicate-column", message: "appears twice in the header row; keep one"))
            } else if !csvColumns.contains(column) && !column.hasPrefix("dim.") {
                var message = "is not a column of a measurement (dimensions are written dim.NAME)"
                if delimiter == UInt8(ascii: ","), rawHeader[index].contains(";") {
                    message +=
                        "; the file looks separated by semicolons: send it separated by commas, or by semicolons only"
                }
                issues.append(DomainError.Issue(field: column, code: "unknown-column", message: message))
            }
        }
        if !issues.isEmpty { throw DomainError.invalid(issues) }
        return header
    }

    /// One line's fields as a submitted row; what cannot be read is added to `issues`.
    private static func csvRow(
        _ fields: [String], number: Int, header: [String], delimiter: UInt8, issues: inout [DomainError.Issue]
    ) -> SubmittedRow {
        var row = SubmittedRow(row: number)
        for (column, field) in zip(header, fields) where !field.isEmpty {
            let isDimension = column.hasPrefix("dim.")
            let limit = isDimension ? maxDimensionValueLength : maxLength[column] ?? 64
            let name = isDimension ? "dimensions." + column.dropFirst(4) : column
            if let issue = textIssue(field, field: name, maxLength: limit, row: row.row) {
                if valueFields.contains(column) { row.sentValueFields.insert(column) }
                row.unreadableFields.insert(name)
                issues.append(issue)
                continue
            }
            switch column {
            case "partner": row.partner = field
            case "indicator": row.indicator = field
            case "neighborhood": row.neighborhood = field
            case "period": row.period = field
            case "note": row.note = field
            case "value", "numerator", "denominator":
                row.sentValueFields.insert(column)
                guard let number = csvNumber(field, column: column, row: row.row, delimiter: delimiter, issues: &issues)
                else { continue }
                switch column {
                case "value": row.value = number
                case "numerator": row.numerator = number
                default: row.denominator = number
                }
            default:
                row.dimensions[String(column.dropFirst(4))] = field
            }
        }
        if fields.count > header.count, fields[header.count...].contains(where: { !$0.isEmpty }) {
            issues.append(
                DomainError.Issue(
                    row: row.row, field: "row", code: "extra-fields",
                    message: "has \(fields.count) fields but the header names \(header.count)"))
        }
        return row
    }

    /// A number field, decimal only, as in JSON; `nil` (with an issue) when it is not one.
    private static func csvNumber(
        _ text: String, column: String, row: Int, delimiter: UInt8, issues: inout [DomainError.Issue]
    ) -> Double? {
        // A semicolon-separated file comes from a spreadsheet that writes decimal commas.
        let field = delimiter == UInt8(ascii: ";") ? text.replacingOccurrences(of: ",", with: ".") : text
        // Double("0x1A") would read hexadecimal.
        guard let number = Double(field), !field.contains(where: { $0 == "x" || $0 == "X" }) else {
            issues.append(
                DomainError.Issue(
                    row: row, field: column, code: "not-numeric", message: "\(field.debugDescription) is not a number"))
            return nil
        }
        if JSONNumber.underflows(field, to: number) {
            issues.append(
                DomainError.Issue(
                    row: row, field: column, code: "out-of-range",
                    message: "\(field) is too close to zero to be held; it would read as \(number)"))
            return nil
        }
        return number
    }

    static let tooManyRows = DomainError.tooLarge(
        code: "too-many-rows",
        "A submission holds at most \(maxRows) rows; nothing was stored. Send the rows in several batches.")

    /// A quote that does not pair up, naming its line, row and column.
    static func malformed(_ fault: UnpairedQuote, body: Data) -> DomainError {
        let headerEnd = body.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) ?? body.endIndex
        let delimiter = Character(UnicodeScalar(separator(of: body)))
        let header = String(decoding: body[..<headerEnd], as: UTF8.self).split(
            separator: delimiter, omittingEmptySubsequences: false)
        let field =
            fault.fieldIndex < header.count
            ? Self.field(
                ofColumn: header[fault.fieldIndex].trimmingCharacters(in: CharacterSet(charactersIn: "\u{FEFF} \t\"")))
            : "row"
        let place = fault.row == 0 ? "the header" : "data row \(fault.row)"
        let message =
            fault.code == "unterminated-quote"
            ? "the quote that opens this field on line \(fault.line) (\(place)) is never closed, so every line after it would be read into this field"
            : "a quoted field on line \(fault.line) (\(place)) has text after its closing quote; write a quote inside a quoted field as \"\""
        return .malformed(
            code: fault.code, "Line \(fault.line), \(place), \(field): \(message). Nothing was stored.",
            issues: [
                DomainError.Issue(
                    row: fault.row == 0 ? nil : fault.row, line: fault.line, field: field, code: fault.code,
                    message: message)
            ])
    }
}
