import Aggregation
import Foundation

/// The completeness grid: partners × periods, reported / missing / late, for chasing data.
/// Colour is never the only cue: each cell says its state and counts in words.
public enum CompletenessView {
    public static func html(_ grid: CompletenessGrid) -> String {
        var html = "<section class=\"completeness\" id=\"completeness\">\n<h2>Completeness</h2>\n"
        html +=
            "<p class=\"note\">Each partner against what it committed to report. <strong>Reported</strong>: every commitment in. <strong>Missing</strong>: something not in yet, still before the deadline (\(grid.graceDays) days after the period ends). <strong>Late</strong>: still missing after the deadline; chase these. Under a cell: the last reminder sent to the partner for it.</p>\n"
        html += "<table class=\"completeness-grid\">\n<thead><tr><th scope=\"col\">Partner</th>"
        for (period, _) in grid.reports { html += "<th scope=\"col\">\(period)</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for partner in grid.partners {
            let name = grid.partnerNames[partner] ?? partner
            html += "<tr data-partner=\"\(Escape.html(partner))\"><th scope=\"row\">\(Escape.html(name))</th>"
            for column in grid.reports.indices {
                guard let cell = grid.cell(partner: partner, column: column) else {
                    html += "<td class=\"state-none\">—</td>"
                    continue
                }
                var reminded = ""
                if cell.state != .reported, let reminder = grid.lastReminder(partner: partner, column: column) {
                    let day = reminder.sentAt.formatted(.iso8601.year().month().day())
                    reminded =
                        "<br><small class=\"reminded\">reminded (\(Escape.html(reminder.stage))) on \(day)</small>"
                }
                html +=
                    "<td class=\"state-\(cell.state.rawValue)\">\(cell.state.rawValue) \(cell.reported)/\(cell.committed)\(reminded)</td>"
            }
            html += "</tr>\n"
        }
        if grid.partners.isEmpty {
            html +=
                "<tr><td colspan=\"\(grid.reports.count + 1)\">No partner has committed to an indicator of this agenda.</td></tr>\n"
        }
        html += "</tbody>\n</table>\n</section>\n"
        return html
    }
}
