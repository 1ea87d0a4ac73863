import Aggregation
import DomainModel

/// The board packet as a document made to be printed (A4 or US Letter): a cover, then one
/// page per indicator with its turn-the-curve chart, its equity chart, the story behind the
/// curve in force, partners' quoted words, the actions, completeness and open flags. Each
/// indicator starts a page, and no chart is cut across pages.
public enum BoardPacketPage {
    public static func html(_ packet: BoardPacket) -> String {
        var body = "<article class=\"packet\" data-audience=\"\(packet.audience.rawValue)\">\n"
        body += cover(packet)
        for page in packet.pages { body += indicatorPage(page, packet: packet) }
        body += "</article>\n"
        let title = packet.title ?? "\(packet.agenda.name): board packet, \(packet.period)"
        return HTMLPage.document(title: title, body: body, extraStyle: stylesheet)
    }

    static func cover(_ packet: BoardPacket) -> String {
        var html = "<section class=\"cover\">\n"
        html += "<p class=\"kicker\">Board packet · \(Escape.html(packet.period.description))</p>\n"
        html += "<h1>\(Escape.html(packet.agenda.name))</h1>\n"
        if let title = packet.title { html += "<p class=\"packet-title\">\(Escape.html(title))</p>\n" }
        if let vision = packet.agenda.vision, !vision.isEmpty {
            html += "<p class=\"vision\">\(Escape.html(vision))</p>\n"
        }
        let when =
            packet.publishedAt.map { "Published \(Escape.html(String($0.prefix(10))))." }
            ?? "Computed on request, not published: the numbers may still change."
        let who =
            switch packet.audience {
            case .coordinator:
                "Coordinator's packet: live data, every cell. Not for circulation beyond the coordinator."
            case .public:
                "Public packet: the numbers as a viewer sees them, from released periods where releases exist; small cells are withheld (suppressed is not zero)."
            }
        html += "<p class=\"note\">\(when) \(who)</p>\n"
        let count = packet.pages.count
        html += "<dl class=\"summary\">"
        html += "<div><dt>Indicators</dt><dd>\(count)</dd></div>"
        html += "<div><dt>On track</dt><dd>\(packet.onTrack) of \(count)</dd></div>"
        html += "<div><dt>Improving</dt><dd>\(packet.improving) of \(count)</dd></div>"
        html += "</dl>\n"
        html += scorecard(packet)
        html += sinceLast(packet)
        html += "</section>\n"
        return html
    }

    static func scorecard(_ packet: BoardPacket) -> String {
        var html =
            "<table class=\"packet-scorecard\">\n<thead><tr><th scope=\"col\">Indicator</th><th scope=\"col\">Period</th><th scope=\"col\" class=\"num\">Latest</th><th scope=\"col\">Trend</th><th scope=\"col\">Progress</th><th scope=\"col\">On track</th></tr></thead>\n<tbody>\n"
        for page in packet.pages {
            let panel = page.panel, line = panel.line
            html +=
                "<tr data-indicator=\"\(Escape.html(panel.code))\"><th scope=\"row\">\(Escape.html(panel.info.name))</th>"
            html += "<td>\(Escape.html(line.latestPeriod?.description ?? "—"))</td>"
            html += DashboardPage.valueCell(line.latest, unit: panel.unit, missingText: "no data")
            html += "<td>\(DashboardPage.trend(line))</td>"
            html += "<td>\(progress(line))</td><td>\(verdict(line.onTrack))</td></tr>\n"
        }
        if packet.pages.isEmpty {
            html += "<tr><td colspan=\"6\">This agenda has no active indicator.</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    static func progress(_ line: ScorecardLine) -> String {
        guard let progress = line.latest?.progress, !(line.latest?.suppressed ?? false) else { return "—" }
        return Format.percent(progress) + " of the way"
    }

    static func verdict(_ onTrack: Bool?) -> String {
        switch onTrack {
        case true?: "<span class=\"on-track\">On track</span>"
        case false?: "<span class=\"off-track\">Not on track</span>"
        case nil: "—"
        }
    }

    static func sinceLast(_ packet: BoardPacket) -> String {
        var html = "<h2>Since the last packet</h2>\n"
        guard let last = packet.sinceLast else {
            return html + "<p>This is the first packet published for this agenda and audience.</p>\n"
        }
        html +=
            "<p class=\"note\">Compared with “\(Escape.html(last.title))” (\(Escape.html(last.period.description)), published \(Escape.html(String(last.publishedAt.prefix(10))))).</p>\n"
        let units = Dictionary(packet.pages.map { ($0.panel.code, $0.panel) }, uniquingKeysWith: { first, _ in first })
        func value(_ value: Double?, _ code: String) -> String {
            guard let value else { return "no value shown" }
            return units[code].map { $0.format(value) } ?? Format.number(value)
        }
        if last.changes.isEmpty && last.revisions.isEmpty {
            return html + "<p>No headline changed and no value was revised.</p>\n"
        }
        html += "<ul class=\"changes\">\n"
        for change in last.changes {
            var parts: [String] = []
            let before = change.before, after = change.after
            if before?.period != after?.period || before?.value != after?.value {
                let then = before.map { "\(value($0.value, change.indicator)) for \($0.period?.description ?? "—")" }
                let now = after.map { "\(value($0.value, change.indicator)) for \($0.period?.description ?? "—")" }
                parts.append("now \(now ?? "no data") (was \(then ?? "no data"))")
            }
            if before?.onTrack != after?.onTrack, let onTrack = after?.onTrack {
                parts.append(onTrack ? "now on track" : "no longer on track")
            }
            guard !parts.isEmpty else { continue }
            html +=
                "<li><strong>\(Escape.html(change.name))</strong>: \(Escape.html(parts.joined(separator: "; ")))</li>\n"
        }
        for revision in last.revisions {
            html +=
                "<li class=\"revision\"><strong>\(Escape.html(revision.name))</strong>, \(Escape.html(revision.period.description)): revised to \(Escape.html(value(revision.after, revision.indicator))) (was \(Escape.html(value(revision.before, revision.indicator))))</li>\n"
        }
        return html + "</ul>\n"
    }

    static func indicatorPage(_ page: BoardPacket.Page, packet: BoardPacket) -> String {
        let panel = page.panel, info = panel.info, line = panel.line
        var html =
            "<section class=\"indicator-page\" id=\"indicator-\(Escape.slug(info.code))\" data-indicator=\"\(Escape.html(info.code))\">\n"
        html += "<header><h2>\(Escape.html(info.name))</h2>"
        var facts = [info.profile.increaseIsBetter ? "higher is better" : "lower is better"]
        if let baseline = info.profile.baseline {
            facts.append("baseline \(panel.format(baseline.value)) (\(baseline.period))")
        }
        if let target = info.profile.target { facts.append("target \(panel.format(target.value)) by \(target.period)") }
        html += "<p class=\"facts\">\(Escape.html(facts.joined(separator: " · ")))</p></header>\n"
        var headline: [String] = []
        if let latest = line.latest, let period = line.latestPeriod {
            headline.append(
                latest.suppressed
                    ? "Latest: suppressed for \(period)"
                    : "Latest: \(latest.value.map(panel.format) ?? "no value") for \(period)")
        } else {
            headline.append("No data up to \(packet.period)")
        }
        if let progress = line.latest?.progress, line.latest?.suppressed == false {
            headline.append(Format.percent(progress) + " of the way from baseline to target")
        }
        if let projected = line.projected, let target = info.profile.target {
            headline.append("at this pace \(panel.format(projected)) by \(target.period)")
        }
        html += "<p class=\"headline\">\(Escape.html(headline.joined(separator: " · ")))"
        html += line.onTrack == nil ? "</p>\n" : " · \(verdict(line.onTrack))</p>\n"
        html += "<div class=\"packet-charts\">\n<figure>\(TrendChart.svg(panel))</figure>\n"
        html += "<figure>\(NeighborhoodChart.svg(panel))</figure>\n</div>\n"
        html += story(page.story, period: page.period ?? packet.period)
        if !page.quotes.isEmpty {
            html += "<section class=\"voices\"><h3>In partners' words</h3>\n"
            for quote in page.quotes {
                html +=
                    "<blockquote>\(paragraphs(quote.text))<footer>— \(Escape.html(quote.partnerName)), \(Escape.html(quote.period.description))</footer></blockquote>\n"
            }
            html += "</section>\n"
        }
        html += actions(page.actions)
        html += completeness(page.completeness)
        if let flags = page.openFlags { html += openFlags(flags) }
        html += "</section>\n"
        return html
    }

    static func story(_ story: BoardPacket.Story?, period: Period) -> String {
        var html = "<section class=\"story\"><h3>The story behind the curve</h3>\n"
        guard let story else {
            return html
                + "<p class=\"missing\">No story has been written for \(Escape.html(period.description)) or before.</p></section>\n"
        }
        let written = "Written for \(story.writtenFor), saved \(story.savedAt.prefix(10))."
        html +=
            story.stale
            ? "<p class=\"written-for stale\">\(Escape.html(written)) No story has been written for a later period yet.</p>\n"
            : "<p class=\"written-for\">\(Escape.html(written))</p>\n"
        for (heading, text) in [
            ("Why", story.storyBehindTheCurve), ("Partners with a role to play", story.partners),
            ("What works", story.whatWorks), ("Action plan", story.actionPlan),
        ] where !text.isEmpty {
            html += "<h4>\(heading)</h4>\n\(paragraphs(text))"
        }
        return html + "</section>\n"
    }

    static func actions(_ actions: [BoardPacket.Action]) -> String {
        guard !actions.isEmpty else { return "" }
        var html =
            "<section class=\"actions\"><h3>Actions</h3>\n<table>\n<thead><tr><th scope=\"col\">Action</th><th scope=\"col\">Owner</th><th scope=\"col\">Due</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n"
        for action in actions {
            let status = action.status.replacingOccurrences(of: "_", with: " ")
            html += "<tr><td>\(Escape.html(action.title))</td><td>\(Escape.html(action.ownerName))</td>"
            html += "<td>\(action.due)</td><td\(action.overdue ? " class=\"off-track\"" : "")>\(Escape.html(status))"
            html += action.overdue ? " (overdue)" : ""
            html += "</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>\n"
    }

    static func completeness(_ completeness: BoardPacket.Completeness?) -> String {
        guard let completeness else { return "" }
        var text =
            "\(completeness.reported) of \(completeness.committed) commitments reported for \(completeness.period)."
        if let missing = completeness.missing, !missing.isEmpty {
            text += " Still missing: \(missing.joined(separator: ", "))."
        }
        return "<p class=\"completeness\"><strong>Completeness.</strong> \(Escape.html(text))</p>\n"
    }

    static func openFlags(_ flags: BoardPacket.OpenFlags) -> String {
        guard flags.total > 0 else {
            return "<p class=\"flags\"><strong>Data quality.</strong> No open flag.</p>\n"
        }
        var html =
            "<div class=\"flags\"><p><strong>Data quality.</strong> \(flags.total) open flag\(flags.total == 1 ? "" : "s") on these values:</p>\n<ul>\n"
        for flag in flags.oldest {
            html +=
                "<li>\(Escape.html(flag.partner)), \(Escape.html(flag.neighborhood)), \(Escape.html(flag.period)): \(Escape.html(flag.message)) (\(Escape.html(flag.status)))</li>\n"
        }
        return html + "</ul></div>\n"
    }

    /// Plain text with blank lines between paragraphs as paragraphs; single newlines kept.
    static func paragraphs(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            .map { "<p>\(Escape.html($0).replacingOccurrences(of: "\n", with: "<br>"))</p>\n" }.joined()
    }

    /// The packet's own layout: on screen a column of pages; on paper (A4 or US Letter,
    /// whichever the printer takes: the content fits the smaller of each side) the cover,
    /// then each indicator on a page of its own, charts never split.
    static let stylesheet = """
        .packet { max-width: 190mm; margin: 0 auto; }
        .packet .cover, .packet .indicator-page { padding: 8mm 0; border-bottom: 2px solid #8c8c8c; }
        .packet .kicker { text-transform: uppercase; letter-spacing: 0.08em; color: #0b5394; margin: 0; }
        .packet .packet-title { font-size: 1.2rem; margin: 4px 0; }
        .packet dl.summary { display: flex; gap: 24px; margin: 12px 0; }
        .packet dl.summary div { border: 2px solid #0b5394; padding: 6px 14px; }
        .packet dl.summary dt { font-size: 0.9rem; } .packet dl.summary dd { margin: 0; font-size: 1.6rem; font-weight: bold; }
        .packet .indicator-page header h2 { margin-bottom: 0; } .packet .facts, .packet .written-for { color: #333333; margin: 2px 0 6px; }
        .packet .headline { font-weight: bold; margin: 6px 0; }
        .packet .packet-charts { display: flex; gap: 4mm; align-items: flex-start; }
        .packet .packet-charts figure { flex: 1 1 0; min-width: 0; break-inside: avoid; }
        .packet .packet-charts svg.chart { width: 100%; height: auto; max-height: 78mm; }
        .packet .stale { color: #a61b1b; font-weight: bold; }
        .packet h4 { margin: 8px 0 2px; font-size: 1rem; }
        .packet .story p, .packet blockquote p { margin: 0 0 6px; max-width: none; }
        .packet blockquote { margin: 6px 0; padding: 4px 12px; border-left: 4px solid #0b5394; }
        .packet blockquote footer { font-style: italic; }
        .packet table { font-size: 0.95rem; }
        @page { margin: 12mm; }
        @media print {
          :root { font-size: 10pt; }
          .packet { max-width: none; }
          .packet .cover, .packet .indicator-page { border-bottom: none; padding: 0; }
          .packet .indicator-page { break-before: page; }
          .packet figure, .packet table, .packet blockquote { break-inside: avoid; }
          .packet .packet-charts svg.chart { max-height: 70mm; }
        }
        """
}
