import HTTPServer

/// Writes RFC 4180 CSV: a header row, then rows; fields quoted when they need it, and
/// text a spreadsheet would run as a formula neutralised (see `neutralised`).
struct CSVTable {
    let header: [String]
    private(set) var text: String

    init(header: [String]) {
        self.header = header
        text = ""
        append(header)
    }

    mutating func append(_ fields: [String?]) {
        text += Self.line(fields)
    }

    /// One row: its fields neutralised and escaped, `nil` as an empty field, ended by CRLF.
    static func line(_ fields: [String?]) -> String {
        fields.map { escape(neutralised($0 ?? "")) }.joined(separator: ",") + "\r\n"
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// CSV injection (OWASP): a cell starting with `=`, `+`, `-`, `@`, tab or carriage
    /// return is a formula to a spreadsheet, so it gets a leading `'`; a number (`-5`,
    /// `-1.5e3`) is left as it is.
    static func neutralised(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isNumber(field) else {
            return field
        }
        return "'" + field
    }

    /// Whether `field` is a plain decimal number: sign, digits, optional fraction and exponent.
    static func isNumber(_ field: String) -> Bool {
        var bytes = Substring(field).utf8[...]
        func digits() -> Int {
            let count = bytes.prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }).count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var count = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            count += digits()
        }
        guard count > 0 else { return false }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    /// The table as a response; `bom` starts it with a UTF-8 byte order mark (for Excel).
    func response(bom: Bool = false) -> HTTPResponse {
        HTTPResponse(contentType: "text/csv; charset=utf-8", body: bom ? ("\u{FEFF}" + text).utf8 : text.utf8)
    }
}
