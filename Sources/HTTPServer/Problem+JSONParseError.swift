import JSON

extension Problem {
    /// The problem for a body the JSON parser refused, naming the field it was found in
    /// and, in a batch (a top-level array, or the array under `batchKey`), the row.
    ///
    /// Text that is not UTF-8 (`invalid-utf8`) and a member name given twice
    /// (`duplicate-key`) are 400s, like any other body that is not JSON
    /// (`malformed-json`). A number too large to hold exactly is refused as the field's
    /// other out-of-range values are: 422, `validation-failed`, error code `out-of-range`.
    public init(_ error: JSONParseError, batchKey: String? = nil) {
        var row: Int?
        var path = error.path[...]
        if case .index(let index)? = path.first {
            row = index
            path = path.dropFirst()
        } else if let batchKey, path.count >= 2, path.first == .key(batchKey),
            case .index(let index) = path[path.startIndex + 1]
        {
            row = index
            path = path.dropFirst(2)
        }
        let named = JSONParseError.field(path)
        let field = named.isEmpty ? (row == nil ? "body" : "row") : named
        func fieldError(_ code: String, _ message: String) -> FieldError {
            FieldError(row: row, field: field, code: code, message: message + " (at byte \(error.offset))")
        }
        let at = (row.map { "row \($0), " } ?? "") + field
        switch error.reason {
        case .invalidUTF8:
            self = .badRequest(
                "The body is not UTF-8 text: \(at) holds bytes that are not UTF-8. Send UTF-8.", code: "invalid-utf8")
            errors = [fieldError("invalid-utf8", error.message)]
        case .duplicateKey:
            self = .badRequest(
                "The body names a field twice: \(at). Each field may appear once per object.", code: "duplicate-key")
            errors = [fieldError("duplicate-key", error.message)]
        case .numberOutOfRange:
            self = .invalid([fieldError("out-of-range", error.message)])
        case .syntax, .tooDeep, .tooManyElements:
            self = .badRequest("The body is not valid JSON: \(error.description).", code: "malformed-json")
        }
    }
}
