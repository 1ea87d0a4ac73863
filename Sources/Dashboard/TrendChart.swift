import Aggregation

/// "Turn the curve": one indicator's community value by period, with its baseline, its
/// target, the projection at the current pace, gaps where nothing was reported, and
/// hatched bands where the value is withheld.
public enum TrendChart {
    public static let width = 760.0
    public static let height = 400.0

    /// One period on the chart's axis and what is known of it.
    public enum Point: Equatable, Sendable {
        case value(Double)
        case suppressed
        case missing
    }

    /// The periods from the first with data (or the baseline) to the target period (or the latest), each with its point.
    public static func points(_ panel: IndicatorPanel) -> [(period: Period, point: Point)] {
        let profile = panel.info.profile
        var byPeriod: [Period: Cell] = [:]
        for cell in panel.series {
            if let text = cell.key["period"], let period = Period(text) { byPeriod[period] = cell }
        }
        var bounds = Array(byPeriod.keys)
        if let baseline = profile.baseline?.period, baseline.type == profile.periodType { bounds.append(baseline) }
        if let target = profile.target?.period, target.type == profile.periodType { bounds.append(target) }
        guard let first = bounds.min(), let last = bounds.max() else { return [] }
        return first.through(last).map { period in
            guard let cell = byPeriod[period] else { return (period, .missing) }
            if cell.suppressed { return (period, .suppressed) }
            guard let value = cell.value else { return (period, .missing) }
            return (period, .value(value))
        }
    }

    public static func title(_ panel: IndicatorPanel) -> String {
        "\(panel.info.name): community trend by \(panel.info.profile.periodType.rawValue)"
    }

    public static func svg(_ panel: IndicatorPanel) -> String {
        let points = points(panel)
        let id = "trend-\(Escape.slug(panel.info.code))"
        var svg = SVGDocument(width: width, height: height)
        svg.element(
            "text",
            [
                "x": "16", "y": "30", "font-size": "20", "font-weight": "bold", "fill": Palette.ink,
                "class": "chart-title",
            ], text: title(panel))
        guard !points.isEmpty else {
            svg.element(
                "text", ["x": "16", "y": "80", "fill": Palette.muted, "class": "no-data"], text: "No data reported yet."
            )
            return svg.render(
                id: id, title: title(panel), description: "No data has been reported for \(panel.info.name) yet.")
        }
        let chart = Geometry(panel, points: points)
        drawValueAxis(chart, label: panel.valueAxisLabel, into: &svg)
        drawPeriodAxis(chart, periodType: panel.info.profile.periodType.rawValue, into: &svg)
        drawSuppressedPeriods(chart, hatchID: "\(id)-hatch", into: &svg)
        // Drawn in this order, so where side labels collide the target's stays next to its line.
        var sideLabels = SideLabels(x: chart.right + 8)
        drawTarget(panel, chart, sideLabels: &sideLabels, into: &svg)
        drawBaseline(panel, chart, sideLabels: &sideLabels, into: &svg)
        drawProjection(panel, chart, sideLabels: &sideLabels, into: &svg)
        drawSeries(chart, into: &svg)
        drawPoints(panel, chart, into: &svg)
        return svg.render(id: id, title: title(panel), description: description(panel, points: points))
    }

    /// The text alternative: what a person would say looking at the chart.
    static func description(_ panel: IndicatorPanel, points: [(period: Period, point: Point)]) -> String {
        var parts: [String] = []
        let known = points.compactMap { entry -> (Period, Double)? in
            if case .value(let v) = entry.point { return (entry.period, v) } else { return nil }
        }
        if let first = known.first, let last = known.last {
            parts.append("From \(panel.format(first.1)) in \(first.0) to \(panel.format(last.1)) in \(last.0).")
        } else {
            parts.append("No value can be shown.")
        }
        if let baseline = panel.info.profile.baseline {
            parts.append("Baseline \(panel.format(baseline.value)) in \(baseline.period).")
        }
        if let target = panel.info.profile.target {
            parts.append("Target \(panel.format(target.value)) by \(target.period).")
        }
        if let projected = panel.line.projected {
            parts.append("At the current pace it reaches \(panel.format(projected)).")
        }
        let lastData = known.last?.0
        let missing = points.filter {
            if case .missing = $0.point, let lastData, $0.period < lastData { return true } else { return false }
        }.count
        if missing > 0 { parts.append("\(missing) period\(missing == 1 ? "" : "s") without data.") }
        let suppressed = points.filter { if case .suppressed = $0.point { return true } else { return false } }.count
        if suppressed > 0 {
            parts.append("\(suppressed) period\(suppressed == 1 ? "" : "s") suppressed to protect small numbers.")
        }
        return parts.joined(separator: " ")
    }
}

// The pieces of the chart, in the order `svg` draws them.
extension TrendChart {
    /// Where things go: the plot area, one column per period, and the value scale up the side.
    private struct Geometry {
        let points: [(period: Period, point: Point)]
        let left = 88.0, right = TrendChart.width - 200, top = 56.0, bottom = TrendChart.height - 72
        /// Covers every value drawn: the series, the baseline, the target and the projection (and 0).
        let y: LinearScale
        /// The distance between neighbouring periods.
        let step: Double
        private let indexByPeriod: [Period: Int]

        init(_ panel: IndicatorPanel, points: [(period: Period, point: Point)]) {
            let profile = panel.info.profile
            var values = points.compactMap { if case .value(let v) = $0.point { return v } else { return nil } }
            if let baseline = profile.baseline?.value { values.append(baseline) }
            if let target = profile.target?.value { values.append(target) }
            if let projected = panel.line.projected { values.append(projected) }
            self.points = points
            y = LinearScale(covering: values, from: bottom, to: top, includeZero: true)
            step = (right - left) / Double(max(points.count - 1, 1))
            indexByPeriod = Dictionary(uniqueKeysWithValues: points.enumerated().map { ($0.element.period, $0.offset) })
        }

        /// The x position of the period at `index`; a lone period sits in the middle.
        func x(_ index: Int) -> Double { points.count == 1 ? (left + right) / 2 : left + Double(index) * step }

        /// The position of `period` on the axis, nil when the axis does not reach it.
        func index(of period: Period) -> Int? { indexByPeriod[period] }
    }

    /// The labels right of the plot (target, baseline, projection), each at the height of its
    /// value, moved down while it would overlap one placed before it.
    private struct SideLabels {
        let x: Double
        var placedYs: [Double] = []

        mutating func draw(_ text: String, at y: Double, color: String, cls: String, into svg: inout SVGDocument) {
            var ly = y + 5
            while placedYs.contains(where: { abs($0 - ly) < 18 }) { ly += 18 }
            placedYs.append(ly)
            svg.element(
                "text",
                [
                    "x": Format.coordinate(x), "y": Format.coordinate(ly), "font-size": "14", "fill": color,
                    "class": cls,
                ], text: text)
        }
    }

    /// A gridline and a label at each value tick, and the value axis's title.
    private static func drawValueAxis(_ chart: Geometry, label: String, into svg: inout SVGDocument) {
        svg.open("g", ["class": "axis y-axis"])
        for tick in chart.y.ticks {
            let ty = Format.coordinate(chart.y(tick))
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(chart.left), "x2": Format.coordinate(chart.right), "y1": ty, "y2": ty,
                    "stroke": Palette.grid,
                ])
            svg.element(
                "text",
                [
                    "x": Format.coordinate(chart.left - 8), "y": Format.coordinate(chart.y(tick) + 5),
                    "text-anchor": "end", "font-size": "14", "fill": Palette.ink,
                ], text: Format.number(tick))
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label y",
                "transform": "translate(20 \(Format.coordinate((chart.top + chart.bottom) / 2))) rotate(-90)",
                "text-anchor": "middle", "font-size": "15", "fill": Palette.ink,
            ], text: label)
    }

    /// The period axis, a tick and a label on every so many periods (at most about nine
    /// labels), and the axis's title.
    private static func drawPeriodAxis(_ chart: Geometry, periodType: String, into svg: inout SVGDocument) {
        let bottom = chart.bottom
        svg.open("g", ["class": "axis x-axis"])
        svg.element(
            "line",
            [
                "x1": Format.coordinate(chart.left), "x2": Format.coordinate(chart.right),
                "y1": Format.coordinate(bottom), "y2": Format.coordinate(bottom), "stroke": Palette.ink,
            ])
        let every = max(1, Int((Double(chart.points.count) / 8).rounded(.up)))
        for (i, entry) in chart.points.enumerated() where i % every == 0 {
            let x = Format.coordinate(chart.x(i))
            svg.element(
                "line",
                [
                    "x1": x, "x2": x, "y1": Format.coordinate(bottom), "y2": Format.coordinate(bottom + 6),
                    "stroke": Palette.ink,
                ])
            svg.element(
                "text",
                [
                    "x": x, "y": Format.coordinate(bottom + 24), "text-anchor": "middle", "font-size": "14",
                    "fill": Palette.ink,
                ], text: entry.period.description)
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label x", "x": Format.coordinate((chart.left + chart.right) / 2),
                "y": Format.coordinate(height - 16), "text-anchor": "middle", "font-size": "15", "fill": Palette.ink,
            ], text: "Period (\(periodType))")
    }

    /// A hatched band over each withheld period, and one "suppressed" label above the first.
    private static func drawSuppressedPeriods(_ chart: Geometry, hatchID: String, into svg: inout SVGDocument) {
        let points = chart.points
        let suppressedIndices = points.indices.filter {
            if case .suppressed = points[$0].point { return true } else { return false }
        }
        guard let first = suppressedIndices.first else { return }
        svg.raw(SVGDocument.hatch(id: hatchID))
        svg.open("g", ["class": "suppressed-periods"])
        let w = max(chart.step * 0.8, 6)
        for i in suppressedIndices {
            svg.open("g", ["class": "suppressed", "data-period": points[i].period.description])
            svg.element("title", [:], text: "\(points[i].period): suppressed (small cell)")
            svg.element(
                "rect",
                [
                    "x": Format.coordinate(chart.x(i) - w / 2), "y": Format.coordinate(chart.top),
                    "width": Format.coordinate(w), "height": Format.coordinate(chart.bottom - chart.top),
                    "fill": "url(#\(hatchID))", "opacity": "0.8",
                ])
            svg.close("g")
        }
        svg.element(
            "text",
            [
                "x": Format.coordinate(chart.x(first)), "y": Format.coordinate(chart.top - 6),
                "text-anchor": "middle", "font-size": "13", "fill": Palette.ink, "class": "suppressed-label",
            ], text: "suppressed")
        svg.close("g")
    }

    /// The target: a dashed line across the plot, a diamond at the target period when the axis
    /// reaches it, and its side label.
    private static func drawTarget(
        _ panel: IndicatorPanel, _ chart: Geometry, sideLabels: inout SideLabels, into svg: inout SVGDocument
    ) {
        guard let target = panel.info.profile.target else { return }
        let line = LevelLine(
            value: target.value, cls: "target", title: "Target: \(panel.format(target.value)) by \(target.period)",
            label: "Target \(panel.format(target.value))", color: Palette.target, width: "2.5", dashes: "10 5")
        drawLevel(line, chart, sideLabels: &sideLabels, into: &svg) { svg in
            guard let i = chart.index(of: target.period) else { return }
            let diamondTop = "\(Format.coordinate(chart.x(i))) \(Format.coordinate(chart.y(target.value) - 8))"
            svg.element("path", ["d": "M \(diamondTop) l 8 8 l -8 8 l -8 -8 z", "fill": Palette.target])
        }
    }

    /// The baseline: a dotted line across the plot, and its side label.
    private static func drawBaseline(
        _ panel: IndicatorPanel, _ chart: Geometry, sideLabels: inout SideLabels, into svg: inout SVGDocument
    ) {
        guard let baseline = panel.info.profile.baseline else { return }
        let line = LevelLine(
            value: baseline.value, cls: "baseline",
            title: "Baseline: \(panel.format(baseline.value)) in \(baseline.period)",
            label: "Baseline \(panel.format(baseline.value))", color: Palette.baseline, width: "1.5", dashes: "2 4")
        drawLevel(line, chart, sideLabels: &sideLabels, into: &svg)
    }

    /// A level the curve is read against (the target, the baseline).
    private struct LevelLine {
        var value: Double
        /// Prefix of the group's and the side label's classes (`target-line`, `target-label`).
        var cls: String
        var title: String
        var label: String
        var color: String
        var width: String
        var dashes: String
    }

    /// A level as a line across the plot with its title, anything `inside` adds to its
    /// group, and its side label.
    private static func drawLevel(
        _ line: LevelLine, _ chart: Geometry, sideLabels: inout SideLabels, into svg: inout SVGDocument,
        inside: (inout SVGDocument) -> Void = { _ in }
    ) {
        let y = Format.coordinate(chart.y(line.value))
        svg.open("g", ["class": "\(line.cls)-line"])
        svg.element("title", [:], text: line.title)
        svg.element(
            "line",
            [
                "x1": Format.coordinate(chart.left), "x2": Format.coordinate(chart.right), "y1": y, "y2": y,
                "stroke": line.color, "stroke-width": line.width, "stroke-dasharray": line.dashes,
            ])
        inside(&svg)
        svg.close("g")
        sideLabels.draw(line.label, at: chart.y(line.value), color: line.color, cls: "\(line.cls)-label", into: &svg)
    }

    /// The projection: a dashed line from the latest value to the target period at the current
    /// pace, an open circle where it ends, and its side label. Drawn only when the latest period
    /// has a value and comes before the target period.
    private static func drawProjection(
        _ panel: IndicatorPanel, _ chart: Geometry, sideLabels: inout SideLabels, into svg: inout SVGDocument
    ) {
        guard let projected = panel.line.projected, let target = panel.info.profile.target,
            let latest = panel.line.latestPeriod, let from = chart.index(of: latest),
            let to = chart.index(of: target.period), to > from, case .value(let now) = chart.points[from].point
        else { return }
        svg.open("g", ["class": "projection"])
        svg.element(
            "title", [:], text: "Projected at the current pace: \(panel.format(projected)) by \(target.period)")
        svg.element(
            "line",
            [
                "x1": Format.coordinate(chart.x(from)), "y1": Format.coordinate(chart.y(now)),
                "x2": Format.coordinate(chart.x(to)), "y2": Format.coordinate(chart.y(projected)),
                "stroke": Palette.projection, "stroke-width": "2", "stroke-dasharray": "4 4",
            ])
        svg.element(
            "circle",
            [
                "cx": Format.coordinate(chart.x(to)), "cy": Format.coordinate(chart.y(projected)), "r": "5",
                "fill": "#ffffff", "stroke": Palette.projection, "stroke-width": "2",
            ])
        svg.close("g")
        sideLabels.draw(
            "Projected \(panel.format(projected))", at: chart.y(projected), color: Palette.projection,
            cls: "projection-label", into: &svg)
    }

    /// The series line: one path per run of two or more consecutive values, so a missing or
    /// withheld period breaks the line instead of dropping it to zero.
    private static func drawSeries(_ chart: Geometry, into svg: inout SVGDocument) {
        svg.open("g", ["class": "series", "fill": "none", "stroke": Palette.series, "stroke-width": "3"])
        for run in runsOfValues(chart.points) where run.count > 1 {
            let d = run.enumerated().map { offset, i -> String in
                guard case .value(let v) = chart.points[i].point else { return "" }
                let command = offset == 0 ? "M " : "L "
                return command + Format.coordinate(chart.x(i)) + " " + Format.coordinate(chart.y(v))
            }.joined(separator: " ")
            svg.element("path", ["class": "run", "d": d])
        }
        svg.close("g")
    }

    /// The indices of `points`, grouped into runs of consecutive periods with a value.
    private static func runsOfValues(_ points: [(period: Period, point: Point)]) -> [[Int]] {
        var runs: [[Int]] = []
        var current: [Int] = []
        for (i, entry) in points.enumerated() {
            if case .value = entry.point {
                current.append(i)
            } else if !current.isEmpty {
                runs.append(current); current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// A dot on each value, with the period and the value as its tooltip.
    private static func drawPoints(_ panel: IndicatorPanel, _ chart: Geometry, into svg: inout SVGDocument) {
        svg.open("g", ["class": "points", "fill": Palette.series])
        for (i, entry) in chart.points.enumerated() {
            guard case .value(let v) = entry.point else { continue }
            svg.open(
                "circle",
                [
                    "class": "point", "cx": Format.coordinate(chart.x(i)), "cy": Format.coordinate(chart.y(v)),
                    "r": "4", "data-period": entry.period.description,
                ])
            svg.element("title", [:], text: "\(entry.period): \(panel.format(v))")
            svg.close("circle")
        }
        svg.close("g")
    }
}
