/// One flag's page: what was flagged and why, the value's own history (every change, who
/// and when), the series' recent values around it, and the flag's trail.
public enum FlagPage {
    /// Everything the page shows.
    public struct Detail: Sendable {
        public var line: QualityPanel.Line
        public var partnerName: String
        public var indicatorName: String
        /// The value flagged as written on the dashboard (`1,000`, or `12 / 40` for a ratio); nil once retracted.
        public var value: String?
        public var expected: String?
        public var score: String?
        public var note: String?
        /// The flag's trail: status, note, who (`service` when it closed itself), when.
        public var trail: [(status: String, note: String?, by: String, at: String)]
        /// The value's audit trail: action, when, who, before, after.
        public var changes: [(action: String, at: String, by: String, before: String, after: String)]
        /// The series' values before and including the flagged period, oldest first.
        public var series: [(period: String, value: String)]

        public init(
            line: QualityPanel.Line, partnerName: String, indicatorName: String, value: String?, expected: String?,
            score: String?, note: String?, trail: [(status: String, note: String?, by: String, at: String)],
            changes: [(action: String, at: String, by: String, before: String, after: String)],
            series: [(period: String, value: String)]
        ) {
            self.line = line
            self.partnerName = partnerName
            self.indicatorName = indicatorName
            self.value = value
            self.expected = expected
            self.score = score
            self.note = note
            self.trail = trail
            self.changes = changes
            self.series = series
        }
    }

    public static func html(_ detail: Detail) -> String {
        let line = detail.line
        var body =
            "<header class=\"page\">\n<div>\n<h1>Flag \(line.id): \(Escape.html(detail.indicatorName))</h1>\n<p class=\"who\">\(Escape.html(detail.partnerName)) · \(Escape.html(line.neighborhood)) · \(Escape.html(line.period))</p>\n</div>\n\(DashboardPage.signOutForm)\n</header>\n"
        body += "<nav class=\"indicators\"><a href=\"/dashboard#quality\">Back to the dashboard</a></nav>\n"
        body += "<section class=\"flag\">\n<dl>\n"
        var facts: [(String, String?)] = [
            ("Why", line.message), ("Kind", line.kind == "rule" ? "validation rule" : "outlier"),
            ("Status", line.status), ("Opened", line.opened), ("Value", detail.value ?? "retracted"),
        ]
        if let expected = detail.expected { facts.append(("Expected", expected)) }
        if let score = detail.score { facts.append(("Score", score)) }
        if let note = detail.note { facts.append(("Note", note)) }
        for (term, description) in facts {
            body += "<dt>\(term)</dt><dd>\(Escape.html(description ?? ""))</dd>\n"
        }
        body += "</dl>\n</section>\n"
        body += table(
            id: "series", caption: "The series' values up to this period, oldest first.", headers: ["Period", "Value"],
            rows: detail.series.map { [$0.period, $0.value] })
        body += table(
            id: "changes", caption: "Every change of this value.",
            headers: ["Action", "When", "Key", "Before", "After"],
            rows: detail.changes.map { [$0.action, $0.at, $0.by, $0.before, $0.after] })
        body += table(
            id: "trail", caption: "The flag's trail.", headers: ["Status", "When", "By", "Note"],
            rows: detail.trail.map { [$0.status, $0.at, $0.by, $0.note ?? ""] })
        return HTMLPage.document(title: "Flag \(line.id) · Backbone dashboard", body: body)
    }

    static func table(id: String, caption: String, headers: [String], rows: [[String]]) -> String {
        var html =
            "<table class=\"\(id)\">\n<caption class=\"note\">\(Escape.html(caption))</caption>\n<thead><tr>"
        html += headers.map { "<th scope=\"col\">\(Escape.html($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows { html += "<tr>" + row.map { "<td>\(Escape.html($0))</td>" }.joined() + "</tr>\n" }
        if rows.isEmpty { html += "<tr><td colspan=\"\(headers.count)\">None.</td></tr>\n" }
        return html + "</tbody>\n</table>\n"
    }
}
