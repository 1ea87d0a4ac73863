import DataQuality
import FieldIssues

/// What the partners' upload page shows (`UploadPage`): who uploads, the file's dry run
/// as a table, or what a stored upload did.
public enum UploadModel {
    /// Who is on the page and which templates it offers.
    public struct Uploader: Sendable {
        /// The partner's name; nil for the coordinator (whose files name a partner on every row).
        public var partnerName: String?
        public var agendas: [DashboardModel.Agenda]

        public init(partnerName: String?, agendas: [DashboardModel.Agenda]) {
            self.partnerName = partnerName
            self.agendas = agendas
        }
    }

    /// What a submission did or, in a dry run, would do.
    public struct Counts: Sendable, Equatable {
        public var received: Int
        public var created: Int
        public var updated: Int
        public var unchanged: Int
        public var rejected: Int

        public init(received: Int, created: Int, updated: Int, unchanged: Int, rejected: Int) {
            self.received = received
            self.created = created
            self.updated = updated
            self.unchanged = unchanged
            self.rejected = rejected
        }
    }

    /// A file the page could not read at all (a header naming an unknown column, not UTF-8, …).
    public struct Refusal: Sendable {
        public var title: String
        public var message: String
        /// The problems it names, each with its field (and row or line when it has one).
        public var issues: [FieldIssue]

        public init(title: String, message: String, issues: [FieldIssue] = []) {
            self.title = title
            self.message = message
            self.issues = issues
        }
    }

    /// A file's dry run: each row as sent, each error and warning on its row and cell.
    public struct Review: Sendable {
        public struct Row: Sendable {
            /// The row number errors and warnings name (data rows count from 1).
            public var number: Int
            public var cells: [String]

            public init(number: Int, cells: [String]) {
                self.number = number
                self.cells = cells
            }
        }

        public var fileName: String
        public var isPartial: Bool
        /// The header as written in the file, and the field each column fills (`value`, `dimensions.age_group`).
        public var columns: [(title: String, field: String)]
        /// The spreadsheet line of row 0 (the header is line 1, so data row 1 is line 2).
        public var firstLine: Int
        public var rows: [Row]
        /// Rows of the file not shown (a long file shows its first rows and every row with a problem).
        public var rowsLeftOut: Int
        public var counts: Counts
        public var errors: [FieldIssue]
        public var warnings: [QualityWarning]
        /// For each outlier's row, its series' latest earlier values, oldest first.
        public var history: [Int: [(period: String, value: Double)]]
        /// The file's text, carried in the store form so the stored file is the one reviewed.
        public var content: String
        /// Generated with this page: the store form sends it, so a second click replays the first.
        public var idempotencyKey: String

        public init(
            fileName: String, isPartial: Bool, columns: [(title: String, field: String)], firstLine: Int = 1,
            rows: [Row], rowsLeftOut: Int, counts: Counts, errors: [FieldIssue], warnings: [QualityWarning],
            history: [Int: [(period: String, value: Double)]], content: String, idempotencyKey: String
        ) {
            self.fileName = fileName
            self.isPartial = isPartial
            self.columns = columns
            self.firstLine = firstLine
            self.rows = rows
            self.rowsLeftOut = rowsLeftOut
            self.counts = counts
            self.errors = errors
            self.warnings = warnings
            self.history = history
            self.content = content
            self.idempotencyKey = idempotencyKey
        }

        /// Whether the store button can store anything: in mode `all` every error must be fixed first.
        public var canStore: Bool {
            counts.received > counts.rejected && (isPartial || errors.isEmpty)
        }
    }

    /// What storing a file did.
    public struct Stored: Sendable {
        public var fileName: String
        public var batchID: String
        public var isPartial: Bool
        public var counts: Counts
        public var errors: [FieldIssue]
        public var warnings: [QualityWarning]

        public init(
            fileName: String, batchID: String, isPartial: Bool, counts: Counts, errors: [FieldIssue],
            warnings: [QualityWarning]
        ) {
            self.fileName = fileName
            self.batchID = batchID
            self.isPartial = isPartial
            self.counts = counts
            self.errors = errors
            self.warnings = warnings
        }
    }
}
