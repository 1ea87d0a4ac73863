import DataQuality
import FieldIssues

/// The partners' upload page, without script: download the template, upload the filled
/// file, read its dry run as a table (each error and warning on its row and cell), store it
/// with one button. The store form carries the file and an idempotency key generated with
/// the dry run, so a double click stores once.
public enum UploadPage {
    /// How many earlier values an outlier's history shows.
    public static let historyLength = 6

    /// The page with the upload form; after a file that could not be read, what was wrong with it.
    public static func form(_ uploader: UploadModel.Uploader, refusal: UploadModel.Refusal? = nil) -> String {
        var body = header(uploader)
        if let refusal {
            body +=
                "<section class=\"refusal error\" role=\"alert\" id=\"refusal\">\n<h2>\(Escape.html(refusal.title))</h2>\n<p>\(Escape.html(refusal.message))</p>\n"
            body += issueList(refusal.issues)
            body += "</section>\n"
        }
        body += templateLinks(uploader)
        body += uploadForm(isPartial: false, heading: "Check a file")
        return HTMLPage.document(title: "Upload · Backbone dashboard", body: body + "</main>")
    }

    /// The dry run: the summary, the file as a table with its problems, the store button,
    /// and the form to send a corrected file.
    public static func review(_ uploader: UploadModel.Uploader, _ review: UploadModel.Review) -> String {
        var body = header(uploader)
        body += "<section class=\"summary\" id=\"summary\">\n<h2>Dry run of \(Escape.html(review.fileName))</h2>\n"
        body += "<p role=\"status\">Nothing is stored yet. \(verdict(review))</p>\n"
        body += counts(review.counts, errors: review.errors, warnings: review.warnings.count, dryRun: true)
        body += storeForm(review)
        body += "</section>\n"
        let fileIssues = review.errors.filter { $0.row == nil }
        if !fileIssues.isEmpty { body += "<h3>Problems with the whole file</h3>\n" + issueList(fileIssues) }
        body += table(review)
        body += uploadForm(isPartial: review.isPartial, heading: "Send a corrected file")
        return HTMLPage.document(title: "Dry run · Upload · Backbone dashboard", body: body + "</main>")
    }

    /// What storing the file did: the import summary, its warnings (and, in mode `partial`, the rows left out).
    public static func stored(_ uploader: UploadModel.Uploader, _ stored: UploadModel.Stored) -> String {
        var body = header(uploader)
        body += "<section class=\"summary stored\" id=\"summary\">\n<h2>Stored: \(Escape.html(stored.fileName))</h2>\n"
        body +=
            "<p role=\"status\">The file was stored as batch <code class=\"batch\">\(Escape.html(stored.batchID))</code>. Sending it again changes nothing.</p>\n"
        body += counts(stored.counts, errors: stored.errors, warnings: stored.warnings.count, dryRun: false)
        body += "</section>\n"
        if !stored.warnings.isEmpty {
            body +=
                "<section class=\"warnings\">\n<h3>Warnings on stored values</h3>\n<p class=\"note\">These values were stored; check them, and send a corrected file if one is wrong.</p>\n"
            body += issueList(stored.warnings.map(issue))
            body += "</section>\n"
        }
        if !stored.errors.isEmpty {
            body += "<section class=\"errors\">\n<h3>Rows not stored</h3>\n" + issueList(stored.errors) + "</section>\n"
        }
        body +=
            "<p><a href=\"/dashboard/upload\">Upload another file</a> · <a href=\"/dashboard\">Back to the dashboard</a></p>\n"
        return HTMLPage.document(title: "Stored · Upload · Backbone dashboard", body: body + "</main>")
    }

    // MARK: - Parts

    static func header(_ uploader: UploadModel.Uploader) -> String {
        let who =
            uploader.partnerName.map { "Uploading as \(Escape.html($0))." }
            ?? "Uploading as the coordinator: every row names its partner (the <code>partner</code> column)."
        return
            "<main class=\"upload\">\n<header class=\"page\">\n<div>\n<h1>Upload measurements</h1>\n<p class=\"who\">\(who)</p>\n</div>\n\(DashboardPage.signOutForm)\n</header>\n<nav class=\"indicators\"><a href=\"/dashboard\">Back to the dashboard</a></nav>\n"
    }

    static func templateLinks(_ uploader: UploadModel.Uploader) -> String {
        var html =
            "<section class=\"templates\">\n<h2>1. Download the template</h2>\n<p class=\"note\">Fill it in a spreadsheet, one row per value, and save it as CSV.</p>\n<ul>\n"
        for agenda in uploader.agendas {
            html +=
                "<li><a class=\"template\" href=\"/dashboard/upload/template.csv?agenda=\(Escape.slug(agenda.id))\" download>Template for \(Escape.html(agenda.name)) (CSV)</a></li>\n"
        }
        if uploader.agendas.isEmpty { html += "<li>No agenda yet.</li>\n" }
        return html + "</ul>\n</section>\n"
    }

    static func uploadForm(isPartial: Bool, heading: String) -> String {
        func option(_ value: String, _ label: String, checked: Bool) -> String {
            "<label><input type=\"radio\" name=\"mode\" value=\"\(value)\"\(checked ? " checked" : "")> \(label)</label><br>\n"
        }
        return """
            <section class="upload-form">
            <h2>2. \(heading)</h2>
            <form method="post" action="/dashboard/upload" enctype="multipart/form-data">
            <p><label for="file">The filled template (CSV)</label><br>
            <input type="file" id="file" name="file" accept=".csv,text/csv" required></p>
            <fieldset><legend>When some rows have errors</legend>
            \(option("all", "store nothing until every row is right", checked: !isPartial))\
            \(option("partial", "store the rows without errors", checked: isPartial))\
            </fieldset>
            <p><input type="submit" id="check" value="Check the file (nothing is stored yet)"></p>
            </form>
            </section>

            """
    }

    static func verdict(_ review: UploadModel.Review) -> String {
        let rowsWithErrors = Set(review.errors.compactMap(\.row)).count
        if review.errors.isEmpty { return "Every row can be stored." }
        if review.isPartial {
            return review.canStore
                ? "\(rowsWithErrors) row\(rowsWithErrors == 1 ? " has" : "s have") errors and would be left out; the other rows can be stored."
                : "No row can be stored: fix the errors and send the file again."
        }
        return
            "\(rowsWithErrors) row\(rowsWithErrors == 1 ? " has" : "s have") errors, so nothing would be stored: fix them in your spreadsheet and send the file again (or choose to store the rows without errors). The counts below are the other rows'."
    }

    static func counts(_ counts: UploadModel.Counts, errors: [FieldIssue], warnings: Int, dryRun: Bool) -> String {
        let rowsWithErrors = Set(errors.compactMap(\.row)).count
        let lines: [(String, String, Int)] = [
            ("received", "Rows in the file", counts.received),
            ("created", dryRun ? "Would create" : "Created", counts.created),
            ("updated", dryRun ? "Would update" : "Updated", counts.updated),
            ("unchanged", dryRun ? "Would leave unchanged" : "Unchanged", counts.unchanged),
            ("rejected", dryRun ? "Rows with errors" : "Rows not stored", dryRun ? rowsWithErrors : counts.rejected),
            ("errors", "Errors", errors.count),
            ("warnings", "Warnings", warnings),
        ]
        var html = "<table class=\"counts\">\n<tbody>\n"
        for (key, label, value) in lines {
            html +=
                "<tr><th scope=\"row\">\(label)</th><td class=\"num\" data-count=\"\(key)\">\(Format.number(Double(value), decimals: 0))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    static func storeForm(_ review: UploadModel.Review) -> String {
        guard review.canStore else { return "" }
        let rows = review.counts.received - review.counts.rejected
        return """
            <form class="store" method="post" action="/dashboard/upload/store" enctype="multipart/form-data">
            <input type="hidden" name="idempotency_key" value="\(Escape.html(review.idempotencyKey))">
            <input type="hidden" name="mode" value="\(review.isPartial ? "partial" : "all")">
            <input type="hidden" name="file_name" value="\(Escape.html(review.fileName))">
            <input type="hidden" name="content" value="\(Escape.html(review.content))">
            <p><button type="submit" id="store">Store \(Format.number(Double(rows), decimals: 0)) row\(rows == 1 ? "" : "s")</button></p>
            </form>

            """
    }

    /// Each shown row with its cells; a problem sits in the cell of its field, or in the
    /// row's last cell when its field is no column of the file (a missing `partner`).
    static func table(_ review: UploadModel.Review) -> String {
        var errorsByRow: [Int: [FieldIssue]] = [:]
        for error in review.errors { if let row = error.row { errorsByRow[row, default: []].append(error) } }
        var warningsByRow: [Int: [QualityWarning]] = [:]
        for warning in review.warnings { if let row = warning.row { warningsByRow[row, default: []].append(warning) } }
        let fields = Set(review.columns.map(\.field))
        var html =
            "<section class=\"review\">\n<h2>The file, row by row</h2>\n<table class=\"review\">\n<thead><tr><th scope=\"col\">Row</th><th scope=\"col\">Line</th>"
        for column in review.columns {
            html += "<th scope=\"col\" data-field=\"\(Escape.html(column.field))\">\(Escape.html(column.title))</th>"
        }
        html += "<th scope=\"col\">Problems with the row</th></tr></thead>\n<tbody>\n"
        for row in review.rows {
            let errors = errorsByRow[row.number] ?? []
            let warnings = warningsByRow[row.number] ?? []
            let state = !errors.isEmpty ? " class=\"has-error\"" : !warnings.isEmpty ? " class=\"has-warning\"" : ""
            html +=
                "<tr id=\"row-\(row.number)\" data-row=\"\(row.number)\"\(state)><th scope=\"row\">\(row.number)</th><td>\(row.number + review.firstLine)</td>"
            for (index, column) in review.columns.enumerated() {
                let text = index < row.cells.count ? row.cells[index] : ""
                let cellErrors = errors.filter { $0.field == column.field }
                let cellWarnings = warnings.filter { $0.field == column.field }
                let cls =
                    !cellErrors.isEmpty
                    ? " class=\"cell-error\"" : !cellWarnings.isEmpty ? " class=\"cell-warning\"" : ""
                html += "<td data-field=\"\(Escape.html(column.field))\"\(cls)>\(Escape.html(text))"
                html += cellErrors.map { errorNote($0) }.joined()
                html += cellWarnings.map { warningNote($0, history: review.history[row.number]) }.joined()
                html += "</td>"
            }
            let rest = errors.filter { !fields.contains($0.field) }
            let restWarnings = warnings.filter { !fields.contains($0.field) }
            html += "<td data-field=\"row\"\(rest.isEmpty ? "" : " class=\"cell-error\"")>"
            html += rest.map { errorNote($0, namingField: true) }.joined()
            html += restWarnings.map { warningNote($0, history: review.history[row.number]) }.joined()
            html += "</td></tr>\n"
        }
        html += "</tbody>\n</table>\n"
        if review.rowsLeftOut > 0 {
            html +=
                "<p class=\"note\">\(review.rowsLeftOut) more row\(review.rowsLeftOut == 1 ? " is" : "s are") in the file without a problem; the table shows the first rows and every row with one.</p>\n"
        }
        return html + "</section>\n"
    }

    /// An error in its cell; in the row's last cell it names its field.
    static func errorNote(_ error: FieldIssue, namingField: Bool = false) -> String {
        let field = namingField ? " (\(Escape.html(error.field)))" : ""
        return
            "<p class=\"issue error\" data-code=\"\(Escape.html(error.code))\"><strong>Error\(field):</strong> \(Escape.html(error.message))</p>"
    }

    /// A warning in its cell; an outlier's expected range and its series' earlier values
    /// head a small table beneath (the message may word the range too: these are for reading down).
    static func warningNote(_ warning: QualityWarning, history: [(period: String, value: Double)]?) -> String {
        let kind =
            warning.rule.map { " (rule \(Escape.html($0)))" } ?? (warning.code == .outlier ? " (unusual value)" : "")
        var html =
            "<div class=\"issue warning\" data-code=\"\(warning.code.rawValue)\"><p><strong>Warning\(kind):</strong> \(Escape.html(warning.message))</p>"
        guard warning.expected != nil || !(history ?? []).isEmpty else { return html + "</div>" }
        html += "<table class=\"history\">"
        if let expected = warning.expected {
            html +=
                "<caption>Expected <span data-bound=\"low\">\(Format.number(expected.lowerBound, decimals: 2))</span>–<span data-bound=\"high\">\(Format.number(expected.upperBound, decimals: 2))</span>\(history?.isEmpty == false ? "; earlier values:" : "")</caption>"
        }
        html += "<tbody>"
        for point in history ?? [] {
            html +=
                "<tr><th scope=\"row\">\(Escape.html(point.period))</th><td class=\"num\">\(Format.number(point.value, decimals: 2))</td></tr>"
        }
        return html + "</tbody></table></div>"
    }

    /// A list of problems, each naming its row and field.
    static func issueList(_ issues: [FieldIssue]) -> String {
        guard !issues.isEmpty else { return "" }
        var html = "<ul class=\"issues\">\n"
        for issue in issues.prefix(200) {
            var place: [String] = []
            if let row = issue.row { place.append("row \(row)") }
            if let line = issue.line { place.append("line \(line)") }
            place.append(issue.field)
            html +=
                "<li data-code=\"\(Escape.html(issue.code))\"><strong>\(Escape.html(place.joined(separator: ", ")))</strong>: \(Escape.html(issue.message))</li>\n"
        }
        if issues.count > 200 { html += "<li>and \(issues.count - 200) more</li>\n" }
        return html + "</ul>\n"
    }

    /// A warning in a list, as an issue of its row and field.
    static func issue(_ warning: QualityWarning) -> FieldIssue {
        FieldIssue(
            row: warning.row, line: warning.line, field: warning.field, code: warning.code.rawValue,
            message: warning.message)
    }
}
