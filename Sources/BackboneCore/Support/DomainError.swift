import FieldIssues

/// What the domain refuses, independent of HTTP: the one error type BackboneCore throws
/// for anything a caller did or asked. Every case has a stable `code`; input problems name
/// the field and, in a batch, the row (`Issue`). The API maps each case to a status in
/// one place (`DomainProblems.swift`).
public enum DomainError: Error, Sendable, Equatable {
    /// The input has these problems (422).
    case invalid([Issue])
    /// A batch refused as a whole: every row's problems, and how many rows were received.
    /// 409 when every problem is a locked period, otherwise 422.
    case rejected([Issue], received: Int)
    /// No such thing, or the caller may not know it exists (404).
    case notFound(String)
    /// The request contradicts the stored state (409), with a stable code.
    case conflict(code: String, String)
    /// The caller's role may not do this (403).
    case forbidden(String)
    /// The request itself is malformed (400); `issues` locates the fault when it can
    /// (the line and column of a CSV quote that does not pair up).
    case malformed(code: String, String, issues: [Issue] = [])
    /// The request holds more than one request may carry (413); nothing was read past the limit.
    case tooLarge(code: String, String)
    /// What the database holds cannot be read as the domain says it must be (an unknown
    /// enum value, dimension text that does not parse): an error someone sees (500),
    /// never a default that quietly changes an answer.
    case storedData(column: String, String)

    /// One problem with one input field (in a batch, of one row).
    public typealias Issue = FieldIssue

    public static func invalid(field: String, code: String, _ message: String) -> DomainError {
        .invalid([Issue(field: field, code: code, message: message)])
    }

    /// The stable code a client can switch on.
    public var code: String {
        switch self {
        case .invalid: return "validation-failed"
        case .rejected(let issues, _): return Self.onlyLocks(issues) ? "period-locked" : "validation-failed"
        case .notFound: return "not-found"
        case .conflict(let code, _), .malformed(let code, _, _), .tooLarge(let code, _): return code
        case .forbidden: return "forbidden"
        case .storedData: return "unreadable-stored-data"
        }
    }

    /// Whether every problem of a batch is a locked period (the coordinator's to fix, not the sender's).
    public static func onlyLocks(_ issues: [Issue]) -> Bool {
        issues.allSatisfy { $0.code == "period-locked" }
    }
}
