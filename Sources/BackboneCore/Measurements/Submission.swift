import DataQuality

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

    /// Errors or warnings with their spreadsheet `line` filled in, for a file.
    public func located<Item: RowLocated>(_ items: [Item]) -> [Item] {
        guard let firstLine else { return items }
        return items.map { item in
            var item = item
            if let row = item.row { item.line = row + firstLine }
            return item
        }
    }
}

/// Something said about a batch's row, which a file also places on its spreadsheet line.
public protocol RowLocated {
    var row: Int? { get }
    var line: Int? { get set }
}

extension DomainError.Issue: RowLocated {}
extension QualityWarning: RowLocated {}
