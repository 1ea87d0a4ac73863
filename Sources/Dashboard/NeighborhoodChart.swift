import Aggregation
import DomainModel

/// Targeted universalism: each neighborhood's value in the latest period against the one
/// universal target, largest gap first; withheld neighborhoods drawn hatched and labelled.
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
            switch (a.cell.value, b.cell.value) {
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
        let info = panel.info
        let unit = panel.unit
        let lines = ordered(panel)
        let id = "neighborhoods-\(Escape.slug(info.code))"
        let height = height(rows: lines.count)
        var svg = SVGDocument(width: width, height: height)
        let left = 190.0, right = width - 190, top = 92.0
        let bottom = top + Double(max(lines.count, 1)) * rowHeight
        svg.element(
            "text",
            [
                "x": "16", "y": "30", "font-size": "20", "font-weight": "bold", "fill": Palette.ink,
                "class": "chart-title",
            ], text: title(panel))
        let subtitle =
            info.profile.target != nil
            ? "Sorted by the gap to the universal target, largest first" : "No target set; worst first"
        svg.element("text", ["x": "16", "y": "52", "font-size": "14", "fill": Palette.muted], text: subtitle)
        if let level = panel.neighborhoodLevel {
            svg.element(
                "text", ["x": "16", "y": "72", "font-size": "14", "fill": Palette.ink, "class": "coarsened"],
                text: "Shown at level \(level) of the neighborhood tree: most finer figures are withheld from this view"
            )
        }
        guard !lines.isEmpty else {
            svg.element(
                "text", ["x": "16", "y": "100", "fill": Palette.muted, "class": "no-data"],
                text: "No neighborhood data for the latest period.")
            return svg.render(id: id, title: title(panel), description: "No neighborhood data for the latest period.")
        }
        var domainValues = lines.compactMap { $0.cell.suppressed ? nil : $0.cell.value }
        if let target = info.profile.target?.value { domainValues.append(target) }
        let x = LinearScale(covering: domainValues, from: left, to: right, includeZero: true)

        svg.open("g", ["class": "axis x-axis"])
        for tick in x.ticks {
            let tx = Format.coordinate(x(tick))
            svg.element(
                "line",
                [
                    "x1": tx, "x2": tx, "y1": Format.coordinate(top - 4), "y2": Format.coordinate(bottom),
                    "stroke": Palette.grid,
                ])
            svg.element(
                "text",
                [
                    "x": tx, "y": Format.coordinate(bottom + 22), "text-anchor": "middle", "font-size": "14",
                    "fill": Palette.ink,
                ], text: Format.number(tick))
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label x", "x": Format.coordinate((left + right) / 2),
                "y": Format.coordinate(bottom + 50), "text-anchor": "middle", "font-size": "15", "fill": Palette.ink,
            ], text: panel.valueAxisLabel)
        svg.element(
            "text",
            [
                "class": "axis-label y", "x": Format.coordinate(left - 10), "y": Format.coordinate(top - 12),
                "text-anchor": "end", "font-size": "15", "font-weight": "bold", "fill": Palette.ink,
            ], text: "Neighborhood")

        if lines.contains(where: \.cell.suppressed) { svg.raw(SVGDocument.hatch(id: "\(id)-hatch")) }
        let zero = x(max(x.domain.lowerBound, 0))
        // Value labels go on top of the target line (with a white halo), so both stay readable.
        var valueLabels: [(x: String, y: String, text: String)] = []
        svg.open("g", ["class": "bars"])
        for (row, line) in lines.enumerated() {
            let name = panel.neighborhoodNames[line.neighborhood] ?? line.neighborhood
            let shown = name.count > 22 ? String(name.prefix(21)) + "…" : name
            let rowY = top + Double(row) * rowHeight
            let barY = Format.coordinate(rowY + 6), barH = Format.coordinate(rowHeight - 12)
            let labelY = Format.coordinate(rowY + rowHeight / 2 + 5)
            svg.element(
                "text",
                [
                    "x": Format.coordinate(left - 10), "y": labelY, "text-anchor": "end", "fill": Palette.ink,
                    "class": "bar-name",
                ], text: shown)
            if line.cell.suppressed {
                svg.open("g", ["class": "bar suppressed", "data-neighborhood": line.neighborhood])
                svg.element("title", [:], text: "\(name): suppressed")
                svg.element(
                    "rect",
                    [
                        "x": Format.coordinate(left), "y": barY, "width": Format.coordinate(right - left),
                        "height": barH, "fill": "url(#\(id)-hatch)", "stroke": Palette.muted, "stroke-dasharray": "4 3",
                    ])
                svg.element(
                    "text",
                    [
                        "x": Format.coordinate(left + 10), "y": labelY, "fill": Palette.ink, "font-weight": "bold",
                        "class": "suppressed-label",
                    ], text: "suppressed: not shown")
                svg.close("g")
                continue
            }
            guard let value = line.cell.value else {
                svg.element(
                    "text",
                    [
                        "x": Format.coordinate(left + 10), "y": labelY, "fill": Palette.muted, "class": "no-value",
                        "data-neighborhood": line.neighborhood,
                    ], text: "no value")
                continue
            }
            let x0 = min(zero, x(value)), x1 = max(zero, x(value))
            svg.open("g", ["class": "bar", "data-neighborhood": line.neighborhood])
            svg.element("title", [:], text: "\(name): \(valueLabel(line, unit: unit, decimals: panel.decimals))")
            svg.element(
                "rect",
                [
                    "x": Format.coordinate(x0), "y": barY, "width": Format.coordinate(max(x1 - x0, 1)), "height": barH,
                    "fill": Palette.bar,
                ])
            svg.close("g")
            valueLabels.append(
                (Format.coordinate(x1 + 8), labelY, valueLabel(line, unit: unit, decimals: panel.decimals)))
        }
        svg.close("g")
        if let target = info.profile.target {
            let tx = Format.coordinate(x(target.value))
            svg.open("g", ["class": "target-line"])
            svg.element("title", [:], text: "Universal target: \(panel.format(target.value))")
            svg.element(
                "line",
                [
                    "x1": tx, "x2": tx, "y1": Format.coordinate(top - 8), "y2": Format.coordinate(bottom),
                    "stroke": Palette.target, "stroke-width": "3", "stroke-dasharray": "10 5",
                ])
            svg.close("g")
            svg.element(
                "text",
                [
                    "x": tx, "y": Format.coordinate(top - 12), "text-anchor": "middle", "font-size": "14",
                    "fill": Palette.target, "font-weight": "bold", "class": "target-label", "stroke": "#ffffff",
                    "stroke-width": "4", "paint-order": "stroke",
                ], text: "Target \(panel.format(target.value))")
        }
        for label in valueLabels {
            svg.element(
                "text",
                [
                    "x": label.x, "y": label.y, "font-size": "14", "fill": Palette.ink, "class": "bar-value",
                    "stroke": "#ffffff", "stroke-width": "4", "paint-order": "stroke",
                ], text: label.text)
        }
        return svg.render(id: id, title: title(panel), description: description(panel, lines: lines))
    }

    static func valueLabel(_ line: EquityLine, unit: String?, decimals: Int) -> String {
        guard let value = line.cell.value else { return "no value" }
        var text = Format.value(value, unit: unit, decimals: decimals)
        if let rate = line.cell.per1000 { text += " · \(Format.number(rate, decimals: 1)) per 1,000" }
        return text
    }

    static func description(_ panel: IndicatorPanel, lines: [EquityLine]) -> String {
        var parts: [String] = []
        let visible = lines.filter { !$0.cell.suppressed && $0.cell.value != nil }
        if let first = visible.first {
            let name = panel.neighborhoodNames[first.neighborhood] ?? first.neighborhood
            if panel.info.profile.target != nil, let gap = first.gap {
                parts.append(
                    "\(name) is furthest from the target (\(panel.format(first.cell.value!)), a gap of \(panel.format(gap)))."
                )
            } else {
                parts.append("\(name) is lowest in the better direction (\(panel.format(first.cell.value!))).")
            }
        }
        parts.append("\(visible.count) neighborhood\(visible.count == 1 ? "" : "s") shown.")
        let suppressed = lines.filter(\.cell.suppressed).count
        if suppressed > 0 { parts.append("\(suppressed) suppressed to protect small numbers.") }
        return parts.joined(separator: " ")
    }
}
