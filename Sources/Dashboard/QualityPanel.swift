/// The data-quality panel's model: standing flags (open or explained), oldest first, and
/// how many stand per partner and indicator. The coordinator sees every partner's; a
/// partner its own; a viewer none.
public struct QualityPanel: Sendable {
    /// One standing flag as the panel lists it.
    public struct Line: Sendable {
        public var id: Int
        public var partner: String
        public var indicator: String
        public var neighborhood: String
        public var period: String
        /// `outlier` or `rule`.
        public var kind: String
        public var message: String
        /// `open` or `explained` (or, on a flag's own page, `confirmed` or `corrected`).
        public var status: String
        /// The day it was opened (`2026-01-05`).
        public var opened: String

        public init(
            id: Int, partner: String, indicator: String, neighborhood: String, period: String, kind: String,
            message: String, status: String, opened: String
        ) {
            self.id = id
            self.partner = partner
            self.indicator = indicator
            self.neighborhood = neighborhood
            self.period = period
            self.kind = kind
            self.message = message
            self.status = status
            self.opened = opened
        }
    }

    /// How many flags stand for one partner and indicator.
    public struct Count: Sendable {
        public var partner: String
        public var indicator: String
        public var count: Int

        public init(partner: String, indicator: String, count: Int) {
            self.partner = partner
            self.indicator = indicator
            self.count = count
        }
    }

    /// The oldest standing flags (at most `QualityPanel.listed`).
    public var lines: [Line]
    public var counts: [Count]
    /// Every standing flag of the agenda (for the caller).
    public var total: Int
    /// Partner id → name, indicator code → name.
    public var partnerNames: [String: String]
    public var indicatorNames: [String: String]

    /// The most flags the panel lists; the rest are in `/v1/flags`.
    public static let listed = 50

    public init(
        lines: [Line], counts: [Count], total: Int, partnerNames: [String: String], indicatorNames: [String: String]
    ) {
        self.lines = lines
        self.counts = counts
        self.total = total
        self.partnerNames = partnerNames
        self.indicatorNames = indicatorNames
    }
}

/// The data-quality panel: counts per partner and indicator, then the standing flags oldest
/// first, each linked to its own page (its value, the value's history and the flag's trail).
public enum QualityPanelView {
    public static func html(_ panel: QualityPanel) -> String {
        var html = "<section class=\"quality\" id=\"quality\">\n<h2>Data quality</h2>\n"
        html +=
            "<p class=\"note\">Values that passed every check but look wrong: an outlier against its own series' history, or a validation rule its cell violates. A flag stands until the coordinator confirms the value or a correction no longer warns; the partner explains its own.</p>\n"
        guard panel.total > 0 else {
            return html + "<p>No flag stands.</p>\n</section>\n"
        }
        html +=
            "<table class=\"quality-counts\">\n<caption class=\"note\">Standing flags (open or explained) per partner and indicator.</caption>\n<thead><tr><th scope=\"col\">Partner</th><th scope=\"col\">Indicator</th><th scope=\"col\" class=\"num\">Flags</th></tr></thead>\n<tbody>\n"
        for count in panel.counts {
            html +=
                "<tr><td>\(Escape.html(panel.partnerNames[count.partner] ?? count.partner))</td><td>\(Escape.html(panel.indicatorNames[count.indicator] ?? count.indicator))</td><td class=\"num\">\(count.count)</td></tr>\n"
        }
        html += "</tbody>\n</table>\n"
        let shown = panel.lines.count < panel.total ? " (the oldest \(panel.lines.count) of \(panel.total))" : ""
        html +=
            "<table class=\"quality-flags\">\n<caption class=\"note\">Standing flags, oldest first\(shown).</caption>\n<thead><tr><th scope=\"col\">Opened</th><th scope=\"col\">Partner</th><th scope=\"col\">Indicator</th><th scope=\"col\">Neighborhood</th><th scope=\"col\">Period</th><th scope=\"col\">Why</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n"
        for line in panel.lines {
            html +=
                "<tr data-flag=\"\(line.id)\"><td>\(Escape.html(line.opened))</td><td>\(Escape.html(panel.partnerNames[line.partner] ?? line.partner))</td><td>\(Escape.html(panel.indicatorNames[line.indicator] ?? line.indicator))</td><td>\(Escape.html(line.neighborhood))</td><td>\(Escape.html(line.period))</td><td><a href=\"/dashboard/flags/\(line.id)\">\(Escape.html(line.message))</a></td><td>\(Escape.html(line.status))</td></tr>\n"
        }
        html += "</tbody>\n</table>\n</section>\n"
        return html
    }
}
