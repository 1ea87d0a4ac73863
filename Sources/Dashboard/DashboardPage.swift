import Aggregation
import DomainModel

/// The coordinator's (or a viewer's) dashboard for one agenda: the scorecard, then per
/// indicator its trend and its neighborhoods, each chart with its numbers in a table, then
/// (for the coordinator) the completeness grid.
public enum DashboardPage {
    public static func html(_ model: DashboardModel) -> String {
        var body = header(model)
        body += scorecard(model)
        for panel in model.indicators { body += indicatorSection(panel, audience: model.audience) }
        if let grid = model.completeness { body += CompletenessView.html(grid) }
        if let quality = model.quality { body += QualityPanelView.html(quality) }
        return HTMLPage.document(title: "\(model.agenda.name) · Backbone dashboard", body: body)
    }

    static let signOutForm =
        "<form class=\"sign-out\" method=\"post\" action=\"/dashboard/sign-out\"><button type=\"submit\">Sign out</button></form>"

    static func header(_ model: DashboardModel) -> String {
        let who: String
        switch model.audience {
        case .coordinator: who = "Coordinator view: every cell, and the completeness grid."
        case .partner:
            who =
                "Partner view\(model.partnerName.map { " (\(Escape.html($0)))" } ?? ""): shared aggregates; small cells are suppressed."
        case .viewer: who = "Viewer view: shared aggregates; small cells are suppressed."
        }
        var html = "<header class=\"page\">\n<div>\n<h1>\(Escape.html(model.agenda.name))</h1>\n"
        if let vision = model.agenda.vision, !vision.isEmpty {
            html += "<p class=\"vision\">\(Escape.html(vision))</p>\n"
        }
        html += "<p class=\"who\">\(who)</p>\n</div>\n\(signOutForm)\n</header>\n"
        html += "<nav class=\"indicators\" aria-label=\"Indicators\">"
        if model.agendas.count > 1 {
            html +=
                model.agendas.filter { $0.id != model.agenda.id }.map {
                    "<a href=\"/dashboard?agenda=\(Escape.slug($0.id))\">\(Escape.html($0.name))</a>"
                }.joined(separator: " ") + " · "
        }
        html += "<a href=\"#scorecard\">Scorecard</a>"
        for panel in model.indicators {
            html += "<a href=\"#indicator-\(Escape.slug(panel.code))\">\(Escape.html(panel.info.name))</a>"
        }
        if model.completeness != nil { html += "<a href=\"#completeness\">Completeness</a>" }
        if model.quality != nil { html += "<a href=\"#quality\">Data quality</a>" }
        if let period = packetPeriod(model) {
            html +=
                "<a class=\"packet\" href=\"/dashboard/board-packet?agenda=\(Escape.slug(model.agenda.id))&amp;period=\(period)\">Board packet</a>"
        }
        if model.audience != .viewer {
            html += "<a class=\"upload\" href=\"/dashboard/upload\">Upload measurements</a>"
        }
        html += "</nav>\n"
        if model.audience.isProtected {
            html +=
                "<p class=\"note\">Hatched cells are <strong>suppressed</strong>: too few partners (or one dominant partner) stand behind them to show the number without revealing one partner's figures. Suppressed is not zero, and neither is a gap: a gap means nothing was reported.</p>\n"
        }
        return html
    }

    /// The period the board packet link asks for: the latest any indicator shows, the
    /// coarser of two that end together (`2025-Q4` rather than `2025-12`).
    static func packetPeriod(_ model: DashboardModel) -> Period? {
        model.indicators.compactMap(\.line.latestPeriod).max { ($0.end, $0.type) < ($1.end, $1.type) }
    }

    static func scorecard(_ model: DashboardModel) -> String {
        var html =
            "<section class=\"scorecard\" id=\"scorecard\">\n<h2>Scorecard</h2>\n<table>\n<caption class=\"note\">Each indicator's latest community-wide value, the one before, and the pace toward its target.</caption>\n"
        html +=
            "<thead><tr><th scope=\"col\">Indicator</th><th scope=\"col\">Period</th><th scope=\"col\" class=\"num\">Latest</th><th scope=\"col\" class=\"num\">Previous</th><th scope=\"col\">Trend</th><th scope=\"col\">Progress to target</th><th scope=\"col\">On track</th></tr></thead>\n<tbody>\n"
        for panel in model.indicators {
            let line = panel.line
            let unit = panel.unit
            html +=
                "<tr data-indicator=\"\(Escape.html(panel.code))\"><th scope=\"row\"><a href=\"#indicator-\(Escape.slug(panel.code))\">\(Escape.html(panel.info.name))</a></th>"
            html += "<td>\(Escape.html(line.latestPeriod?.description ?? "—"))</td>"
            html += valueCell(line.latest, unit: unit, missingText: "no data")
            html += valueCell(line.previous, unit: unit, missingText: line.previousPeriod == nil ? "—" : "no data")
            html += "<td>\(trend(line))</td>"
            if let progress = line.latest?.progress, !(line.latest?.suppressed ?? false) {
                let width = Format.coordinate(min(max(progress, 0), 1) * 100)
                html +=
                    "<td><span class=\"progress\" aria-hidden=\"true\"><span style=\"width: \(width)%\"></span></span>\(Format.percent(progress))</td>"
            } else {
                html += "<td>—</td>"
            }
            switch line.onTrack {
            case true?: html += "<td class=\"on-track\">On track</td>"
            case false?: html += "<td class=\"off-track\">Not on track</td>"
            case nil: html += "<td>—</td>"
            }
            html += "</tr>\n"
        }
        if model.indicators.isEmpty {
            html += "<tr><td colspan=\"7\">This agenda has no active indicator yet.</td></tr>\n"
        }
        html += "</tbody>\n</table>\n</section>\n"
        return html
    }

    static func valueCell(_ cell: Cell?, unit: String?, missingText: String) -> String {
        guard let cell else { return "<td class=\"num missing-cell\">\(missingText)</td>" }
        if cell.suppressed { return "<td class=\"num suppressed-cell\">suppressed</td>" }
        guard let value = cell.value else { return "<td class=\"num missing-cell\">no value</td>" }
        return "<td class=\"num\">\(Escape.html(Format.value(value, unit: unit)))</td>"
    }

    static func trend(_ line: ScorecardLine) -> String {
        guard let trend = line.trend else { return "—" }
        let arrow = trend == "up" ? "↑" : trend == "down" ? "↓" : "→"
        let verdict = line.improving.map { $0 ? " (better)" : " (worse)" } ?? ""
        let cls = line.improving.map { $0 ? " class=\"on-track\"" : " class=\"off-track\"" } ?? ""
        return "<span\(cls)><span aria-hidden=\"true\">\(arrow)</span> \(trend)\(verdict)</span>"
    }

    static func indicatorSection(_ panel: IndicatorPanel, audience: DashboardModel.Audience) -> String {
        let info = panel.info
        let code = Escape.slug(info.code)
        var html =
            "<section class=\"indicator\" id=\"indicator-\(code)\" data-indicator=\"\(Escape.html(info.code))\">\n<h2>\(Escape.html(info.name))</h2>\n"
        var facts = ["\(info.profile.method.rawValue) of \(info.profile.periodType.rawValue)ly values"]
        if let unit = panel.unit { facts.append("unit: \(unit)") }
        facts.append(info.profile.increaseIsBetter ? "higher is better" : "lower is better")
        html += "<p class=\"note\">\(Escape.html(facts.joined(separator: "; "))).</p>\n"
        html += "<div class=\"charts\">\n<figure class=\"chart-and-table trend\">\n\(TrendChart.svg(panel))"
        html += trendTable(panel)
        html +=
            "<figcaption class=\"chart-links\"><a href=\"/dashboard/charts/\(code)/trend.svg\">Trend chart as SVG</a></figcaption>\n</figure>\n"
        html += "<figure class=\"chart-and-table neighborhoods\">\n\(NeighborhoodChart.svg(panel))"
        html += neighborhoodTable(panel, audience: audience)
        html +=
            "<figcaption class=\"chart-links\"><a href=\"/dashboard/charts/\(code)/neighborhoods.svg\">Neighborhood chart as SVG</a></figcaption>\n</figure>\n</div>\n</section>\n"
        return html
    }

    /// The trend's numbers: every period with data, a withheld value, or a gap before the latest.
    static func trendTable(_ panel: IndicatorPanel) -> String {
        let unit = panel.unit
        var byPeriod: [String: Cell] = [:]
        for cell in panel.series { if let period = cell.key["period"] { byPeriod[period] = cell } }
        let latest = panel.line.latestPeriod
        let rows = TrendChart.points(panel).filter { entry in latest.map { entry.period <= $0 } ?? false }
        var html =
            "<table class=\"numbers\">\n<caption>\(Escape.html(panel.info.name)) by period</caption>\n<thead><tr><th scope=\"col\">Period</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">Change</th></tr></thead>\n<tbody>\n"
        for entry in rows.suffix(24) {
            let cell = byPeriod[entry.period.description]
            html += "<tr><th scope=\"row\">\(entry.period)</th>"
            html += valueCell(cell, unit: unit, missingText: "no data")
            if let change = cell?.change, !(cell?.suppressed ?? true) {
                html +=
                    "<td class=\"num\">\(Escape.html((change > 0 ? "+" : "") + Format.value(change, unit: unit)))</td>"
            } else {
                html += "<td class=\"num\">—</td>"
            }
            html += "</tr>\n"
        }
        if rows.isEmpty { html += "<tr><td colspan=\"3\">No data reported yet.</td></tr>\n" }
        if rows.count > 24 {
            html += "<tr><td colspan=\"3\" class=\"note\">The latest 24 periods; the chart shows every one.</td></tr>\n"
        }
        html += "</tbody>\n</table>\n"
        return html
    }

    /// What the gap column says when there is no gap: why, when the reader can act on it.
    static func missingGapText(_ reason: EquityLine.GapReason?) -> String {
        switch reason {
        case .noPopulation?: "no population recorded"
        case .noCommunityPopulation?: "no community population"
        default: "—"
        }
    }

    static func neighborhoodTable(_ panel: IndicatorPanel, audience: DashboardModel.Audience) -> String {
        let unit = panel.unit
        var html =
            "<table class=\"numbers\">\n<caption>\(Escape.html(NeighborhoodChart.title(panel)))</caption>\n<thead><tr><th scope=\"col\">Neighborhood</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">Per 1,000 residents</th><th scope=\"col\" class=\"num\">\(panel.equityComparison.comparesRates ? "Gap to target per 1,000" : "Gap to target")</th></tr></thead>\n<tbody>\n"
        for line in NeighborhoodChart.ordered(panel) {
            let name = panel.neighborhoodNames[line.neighborhood] ?? line.neighborhood
            html +=
                "<tr data-neighborhood=\"\(Escape.html(line.neighborhood))\"><th scope=\"row\">\(Escape.html(name))</th>"
            html += valueCell(line.cell, unit: unit, missingText: "no data")
            if line.cell.suppressed {
                html +=
                    "<td class=\"num suppressed-cell\">suppressed</td><td class=\"num suppressed-cell\">suppressed</td>"
            } else {
                html += "<td class=\"num\">\(line.cell.per1000.map { Format.number($0, decimals: 2) } ?? "—")</td>"
                let gap = line.gap.map {
                    Escape.html(
                        panel.equityComparison.comparesRates ? panel.formatCompared($0) : Format.value($0, unit: unit))
                }
                html += "<td class=\"num\">\(gap ?? missingGapText(line.gapReason))</td>"
            }
            html += "</tr>\n"
        }
        if panel.neighborhoods.isEmpty {
            html += "<tr><td colspan=\"4\">No neighborhood data for the latest period.</td></tr>\n"
        }
        html += "</tbody>\n</table>\n"
        return html
    }
}
