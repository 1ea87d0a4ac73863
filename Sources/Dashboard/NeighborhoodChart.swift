import Aggregation
import DomainModel

/// Targeted universalism: each neighborhood's value in the latest period against the one
/// universal target, largest gap first; withheld neighborhoods drawn hatched and labelled.
/// Counts, totals and stocks are drawn per 1,000 residents against the target per 1,000
/// residents of the community (`IndicatorPanel.equityComparison`), never as counts against a
/// community total.
public enum NeighborhoodChart {
    public static let width = 760.0
    static let rowHeight = 40.0

    /// The bars in the order drawn: the equity order (largest gap first) when the indicator
    /// has a target, else the worst value first; withheld ones last.
    public static func ordered(_ panel: IndicatorPanel) -> [EquityLine] {
        let increase = panel.info.profile.increaseIsBetter
        if panel.info.profile.target != nil {
            return panel.neighborhoods.filter { !$0.cell.suppressed } + panel.neighborhoods.filter(\.cell.suppressed)
        }
        let visible = panel.neighborhoods.filter { !$0.cell.suppressed }.sorted { a, b in
            switch (panel.chartFigure(a), panel.chartFigure(b)) {
            case (let x?, let y?) where x != y: return increase ? x < y : x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.neighborhood < b.neighborhood
            }
        }
        return visible + panel.neighborhoods.filter(\.cell.suppressed)
    }

    public static func title(_ panel: IndicatorPanel) -> String {
        let period = panel.line.latestPeriod.map { " in \($0)" } ?? ""
        return "\(panel.info.name) by neighborhood\(period)"
    }

    public static func height(rows: Int) -> Double { 92 + Double(max(rows, 1)) * rowHeight + 64 }

    public static func svg(_ panel: IndicatorPanel) -> String {
        let lines = ordered(panel)
        let id = "neighborhoods-\(Escape.slug(panel.info.code))"
        var svg = SVGDocument(width: width, height: height(rows: lines.count))
        drawHeading(panel, into: &svg)
        guard !lines.isEmpty else {
            svg.element(
                "text", ["x": "16", "y": "100", "fill": Palette.muted, "class": "no-data"],
                text: "No neighborhood data for the latest period.")
            return svg.render(id: id, title: title(panel), description: "No neighborhood data for the latest period.")
        }
        let chart = Geometry(panel, lines: lines)
        drawValueAxis(chart, label: axisLabel(panel), into: &svg)
        if lines.contains(where: \.cell.suppressed) { svg.raw(SVGDocument.hatch(id: "\(id)-hatch")) }
        // Value labels go on top of the target line (with a white halo), so both stay readable.
        let valueLabels = drawBars(panel, lines, chart, hatchID: "\(id)-hatch", into: &svg)
        drawTarget(panel, chart, into: &svg)
        drawValueLabels(valueLabels, into: &svg)
        return svg.render(id: id, title: title(panel), description: description(panel, lines: lines))
    }

    /// The bar's label: the value and its rate per 1,000, the rate first when the bars draw rates.
    static func valueLabel(_ line: EquityLine, unit: String?, decimals: Int, rateFirst: Bool) -> String {
        guard let value = line.cell.value else { return "no value" }
        let valueText = Format.value(value, unit: unit, decimals: decimals)
        guard let rate = line.cell.per1000 else { return valueText }
        let rateText = "\(Format.number(rate, decimals: 1)) per 1,000"
        return rateFirst ? "\(rateText) · \(valueText)" : "\(valueText) · \(rateText)"
    }

    /// The value axis's label; "… per 1,000 residents" when the chart compares rates.
    static func axisLabel(_ panel: IndicatorPanel) -> String {
        guard panel.drawsRates else { return panel.valueAxisLabel }
        return "\(panel.valueAxisLabel) per 1,000 residents"
    }

    static func description(_ panel: IndicatorPanel, lines: [EquityLine]) -> String {
        var parts: [String] = []
        let visible = lines.filter { !$0.cell.suppressed && panel.chartFigure($0) != nil }
        if let first = visible.first, let figure = panel.chartFigure(first) {
            let name = panel.neighborhoodNames[first.neighborhood] ?? first.neighborhood
            if let target = panel.comparedTarget, let gap = first.gap {
                let against =
                    panel.drawsRates
                    ? " residents against \(panel.formatCompared(target)) for the community" : ""
                parts.append(
                    "\(name) is furthest from the target (\(panel.formatCompared(figure))\(against), a gap of \(panel.formatCompared(gap)))."
                )
            } else {
                parts.append("\(name) is lowest in the better direction (\(panel.formatCompared(figure))).")
            }
        }
        parts.append("\(visible.count) neighborhood\(visible.count == 1 ? "" : "s") shown.")
        let unpopulated = lines.filter { $0.gapReason == .noPopulation }.count
        if unpopulated > 0 {
            parts.append("\(unpopulated) without a population recorded, so without a rate.")
        }
        let suppressed = lines.filter(\.cell.suppressed).count
        if suppressed > 0 { parts.append("\(suppressed) suppressed to protect small numbers.") }
        return parts.joined(separator: " ")
    }
}

// The pieces of the chart, in the order `svg` draws them.
extension NeighborhoodChart {
    /// Where things go: one row per neighborhood down the plot, and the value scale across it.
    private struct Geometry {
        let left = 190.0, right = NeighborhoodChart.width - 190, top = 92.0
        let bottom: Double
        /// Covers the values shown and the target (and 0).
        let x: LinearScale
        /// Where every bar starts: the x of 0 (or of the scale's lower end, were that above 0).
        let zero: Double

        init(_ panel: IndicatorPanel, lines: [EquityLine]) {
            bottom = top + Double(max(lines.count, 1)) * rowHeight
            var domainValues = lines.compactMap { $0.cell.suppressed ? nil : panel.chartFigure($0) }
            if let target = panel.comparedTarget { domainValues.append(target) }
            let scale = LinearScale(covering: domainValues, from: left, to: right, includeZero: true)
            x = scale
            zero = scale(max(scale.domain.lowerBound, 0))
        }

        /// The top and the height of the bar in row `row`.
        func bar(row: Int) -> (y: String, height: String) {
            (Format.coordinate(top + Double(row) * rowHeight + 6), Format.coordinate(rowHeight - 12))
        }

        /// The baseline of the text in row `row`.
        func textY(row: Int) -> String { Format.coordinate(top + Double(row) * rowHeight + rowHeight / 2 + 5) }
    }

    /// A bar's value, written at the end of the bar once everything else is drawn.
    private struct ValueLabel {
        let x: String
        let y: String
        let text: String
    }

    /// The title, how the bars are sorted, and, when the neighborhoods are rolled up, at which level.
    private static func drawHeading(_ panel: IndicatorPanel, into svg: inout SVGDocument) {
        svg.element(
            "text",
            [
                "x": "16", "y": "30", "font-size": "20", "font-weight": "bold", "fill": Palette.ink,
                "class": "chart-title",
            ], text: title(panel))
        let subtitle: String
        switch (panel.info.profile.target != nil, panel.equityComparison.comparesRates, panel.drawsRates) {
        case (false, _, _): subtitle = "No target set; worst first"
        case (true, false, _): subtitle = "Sorted by the gap to the universal target, largest first"
        case (true, true, false):
            subtitle = "Counts: no neighborhood has a population recorded, so none is ranked against the target"
        case (true, true, true) where panel.comparedTarget == nil:
            subtitle = "No population recorded for the community, so no rate to rank against the target"
        case (true, true, true):
            subtitle = "Per 1,000 residents against the target per 1,000 of the community, largest gap first"
        }
        svg.element("text", ["x": "16", "y": "52", "font-size": "14", "fill": Palette.muted], text: subtitle)
        if let level = panel.neighborhoodLevel {
            svg.element(
                "text", ["x": "16", "y": "72", "font-size": "14", "fill": Palette.ink, "class": "coarsened"],
                text: "Shown at level \(level) of the neighborhood tree: \(panel.neighborhoodLevelReason)"
            )
        }
    }

    /// A gridline and a label at each value tick, and the titles of both axes.
    private static func drawValueAxis(_ chart: Geometry, label: String, into svg: inout SVGDocument) {
        svg.open("g", ["class": "axis x-axis"])
        for tick in chart.x.ticks {
            let tx = Format.coordinate(chart.x(tick))
            svg.element(
                "line",
                [
                    "x1": tx, "x2": tx, "y1": Format.coordinate(chart.top - 4), "y2": Format.coordinate(chart.bottom),
                    "stroke": Palette.grid,
                ])
            svg.element(
                "text",
                [
                    "x": tx, "y": Format.coordinate(chart.bottom + 22), "text-anchor": "middle", "font-size": "14",
                    "fill": Palette.ink,
                ], text: Format.number(tick))
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label x", "x": Format.coordinate((chart.left + chart.right) / 2),
                "y": Format.coordinate(chart.bottom + 50), "text-anchor": "middle", "font-size": "15",
                "fill": Palette.ink,
            ], text: label)
        svg.element(
            "text",
            [
                "class": "axis-label y", "x": Format.coordinate(chart.left - 10),
                "y": Format.coordinate(chart.top - 12), "text-anchor": "end", "font-size": "15", "font-weight": "bold",
                "fill": Palette.ink,
            ], text: "Neighborhood")
    }

    /// One row per neighborhood: its name, then a bar, a hatched band when withheld, or "no
    /// value". Returns the value labels of the bars, for `drawValueLabels`.
    private static func drawBars(
        _ panel: IndicatorPanel, _ lines: [EquityLine], _ chart: Geometry, hatchID: String,
        into svg: inout SVGDocument
    ) -> [ValueLabel] {
        var valueLabels: [ValueLabel] = []
        svg.open("g", ["class": "bars"])
        for (row, line) in lines.enumerated() {
            let name = panel.neighborhoodNames[line.neighborhood] ?? line.neighborhood
            let shown = name.count > 22 ? String(name.prefix(21)) + "…" : name
            svg.element(
                "text",
                [
                    "x": Format.coordinate(chart.left - 10), "y": chart.textY(row: row), "text-anchor": "end",
                    "fill": Palette.ink, "class": "bar-name",
                ], text: shown)
            if line.cell.suppressed {
                drawSuppressedBar(line, name: name, row: row, chart, hatchID: hatchID, into: &svg)
            } else if let value = panel.chartFigure(line) {
                let text = valueLabel(line, unit: panel.unit, decimals: panel.decimals, rateFirst: panel.drawsRates)
                let end = drawBar(line, value: value, title: "\(name): \(text)", row: row, chart, into: &svg)
                valueLabels.append(ValueLabel(x: Format.coordinate(end + 8), y: chart.textY(row: row), text: text))
            } else {
                svg.element(
                    "text",
                    [
                        "x": Format.coordinate(chart.left + 10), "y": chart.textY(row: row), "fill": Palette.muted,
                        "class": "no-value", "data-neighborhood": line.neighborhood,
                    ], text: line.cell.value == nil ? "no value" : "no population recorded")
            }
        }
        svg.close("g")
        return valueLabels
    }

    /// A withheld neighborhood: a hatched band across the whole plot, labelled, never a bar of zero.
    private static func drawSuppressedBar(
        _ line: EquityLine, name: String, row: Int, _ chart: Geometry, hatchID: String, into svg: inout SVGDocument
    ) {
        let bar = chart.bar(row: row)
        svg.open("g", ["class": "bar suppressed", "data-neighborhood": line.neighborhood])
        svg.element("title", [:], text: "\(name): suppressed")
        svg.element(
            "rect",
            [
                "x": Format.coordinate(chart.left), "y": bar.y, "width": Format.coordinate(chart.right - chart.left),
                "height": bar.height, "fill": "url(#\(hatchID))", "stroke": Palette.muted, "stroke-dasharray": "4 3",
            ])
        svg.element(
            "text",
            [
                "x": Format.coordinate(chart.left + 10), "y": chart.textY(row: row), "fill": Palette.ink,
                "font-weight": "bold", "class": "suppressed-label",
            ], text: "suppressed: not shown")
        svg.close("g")
    }

    /// A bar from zero to `value` (at least a pixel wide); returns the x of its end away from zero.
    private static func drawBar(
        _ line: EquityLine, value: Double, title: String, row: Int, _ chart: Geometry, into svg: inout SVGDocument
    ) -> Double {
        let x0 = min(chart.zero, chart.x(value)), x1 = max(chart.zero, chart.x(value))
        let bar = chart.bar(row: row)
        svg.open("g", ["class": "bar", "data-neighborhood": line.neighborhood])
        svg.element("title", [:], text: title)
        svg.element(
            "rect",
            [
                "x": Format.coordinate(x0), "y": bar.y, "width": Format.coordinate(max(x1 - x0, 1)),
                "height": bar.height, "fill": Palette.bar,
            ])
        svg.close("g")
        return x1
    }

    /// The universal target: a dashed line down the plot, labelled above it.
    private static func drawTarget(_ panel: IndicatorPanel, _ chart: Geometry, into svg: inout SVGDocument) {
        guard let target = panel.comparedTarget else { return }
        let tx = Format.coordinate(chart.x(target))
        svg.open("g", ["class": "target-line"])
        svg.element("title", [:], text: "Universal target: \(panel.formatCompared(target))")
        svg.element(
            "line",
            [
                "x1": tx, "x2": tx, "y1": Format.coordinate(chart.top - 8), "y2": Format.coordinate(chart.bottom),
                "stroke": Palette.target, "stroke-width": "3", "stroke-dasharray": "10 5",
            ])
        svg.close("g")
        svg.element(
            "text",
            [
                "x": tx, "y": Format.coordinate(chart.top - 12), "text-anchor": "middle", "font-size": "14",
                "fill": Palette.target, "font-weight": "bold", "class": "target-label", "stroke": "#ffffff",
                "stroke-width": "4", "paint-order": "stroke",
            ], text: "Target \(panel.formatCompared(target))")
    }

    /// Each bar's value at its end, with a white halo.
    private static func drawValueLabels(_ labels: [ValueLabel], into svg: inout SVGDocument) {
        for label in labels {
            svg.element(
                "text",
                [
                    "x": label.x, "y": label.y, "font-size": "14", "fill": Palette.ink, "class": "bar-value",
                    "stroke": "#ffffff", "stroke-width": "4", "paint-order": "stroke",
                ], text: label.text)
        }
    }
}
