/// A batch of measurements as read from a request body: the rows that could be read and
/// the problems found while reading them (the edge's parsers build it; ingestion checks it).
public struct Submission: Sendable {
    public var rows: [SubmittedRow] = []
    public var issues: [DomainError.Issue] = []
    /// How many rows the body held, readable or not.
    public var received = 0
    /// For a file with a header row: the spreadsheet line of row 0, so that an issue's
    /// `line` is `row + firstLine` (data row 1 is line 2). Nil for JSON.
    public var firstLine: Int?

    public init() {}

    /// The issues with their spreadsheet `line` filled in, for a file.
    public func located(_ issues: [DomainError.Issue]) -> [DomainError.Issue] {
        guard let firstLine else { return issues }
        return issues.map { issue in
            var issue = issue
            if let row = issue.row { issue.line = row + firstLine }
            return issue
        }
    }
}
