import HTTPServer

/// Writes RFC 4180 CSV: a header row, then rows; fields quoted when they need it.
struct CSVTable {
    let header: [String]
    private(set) var text: String

    init(header: [String]) {
        self.header = header
        text = ""
        append(header)
    }

    mutating func append(_ fields: [String?]) {
        text += fields.map { Self.escape($0 ?? "") }.joined(separator: ",")
        text += "\r\n"
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func response() -> HTTPResponse {
        HTTPResponse(contentType: "text/csv; charset=utf-8", body: text.utf8)
    }
}

extension HTTPRequest {
    /// Whether the client asked for CSV (`?format=csv` or `Accept: text/csv`).
    var wantsCSV: Bool {
        if let format = query("format") { return format == "csv" }
        return headers.first(name: "accept")?.contains("text/csv") == true
    }
}

import Foundation
