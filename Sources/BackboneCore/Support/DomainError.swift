/// One problem with one input field (in a batch, of one row).
public struct FieldIssue: Sendable, Equatable, Codable {
    public var row: Int?
    /// In an uploaded file, the spreadsheet line of the row (the header is line 1).
    public var line: Int?
    public var field: String
    public var code: String
    public var message: String

    public init(row: Int? = nil, field: String, code: String, message: String) {
        self.row = row
        self.field = field
        self.code = code
        self.message = message
    }
}

/// What the domain refuses, independent of HTTP; the API maps each case to a status.
public enum DomainError: Error, Sendable, Equatable {
    /// The input has these problems (422).
    case invalid([FieldIssue])
    /// No such thing, or the caller may not know it exists (404).
    case notFound(String)
    /// The request contradicts the stored state (409), with a stable code.
    case conflict(code: String, String)
    /// The caller's role may not do this (403).
    case forbidden(String)
    /// The request itself is malformed (400).
    case malformed(code: String, String)
    /// What the database holds cannot be read as the domain says it must be (an unknown
    /// enum value, dimension text that does not parse): an error someone sees (500),
    /// never a default that quietly changes an answer.
    case storedData(column: String, String)

    public static func invalid(field: String, code: String, _ message: String) -> DomainError {
        .invalid([FieldIssue(field: field, code: code, message: message)])
    }
}
