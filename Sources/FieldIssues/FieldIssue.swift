/// One problem with one input field (in a batch, of one row): what the domain refuses
/// (`DomainError.Issue`) and what a problem document lists (`Problem.FieldError`) are
/// this one value, so neither layer keeps a copy of the other's shape. It knows nothing
/// of HTTP or of the domain; HTTPServer writes it into problem+json.
public struct FieldIssue: Sendable, Equatable {
    /// The row in a batch (JSON rows from 0, CSV data rows from 1).
    public var row: Int?
    /// In an uploaded file, the spreadsheet line of the row (the header is line 1).
    public var line: Int?
    public var field: String
    /// A stable identifier scripts can switch on (`not-numeric`, `too-long`).
    public var code: String
    public var message: String
    /// In a field holding an expression (a validation rule's `left`), the 1-based character
    /// where the problem is.
    public var position: Int?

    public init(
        row: Int? = nil, line: Int? = nil, field: String, code: String, message: String, position: Int? = nil
    ) {
        self.row = row
        self.line = line
        self.field = field
        self.code = code
        self.message = message
        self.position = position
    }
}
