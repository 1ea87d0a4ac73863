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
        let info = panel.info
        let profile = info.profile
        let points = points(panel)
        let id = "trend-\(Escape.slug(info.code))"
        var svg = SVGDocument(width: width, height: height)
        let left = 88.0, right = width - 200, top = 56.0, bottom = height - 72
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
                id: id, title: title(panel), description: "No data has been reported for \(info.name) yet.")
        }
        var values = points.compactMap { if case .value(let v) = $0.point { return v } else { return nil } }
        if let baseline = profile.baseline?.value { values.append(baseline) }
        if let target = profile.target?.value { values.append(target) }
        if let projected = panel.line.projected { values.append(projected) }
        let y = LinearScale(covering: values, from: bottom, to: top, includeZero: true)
        let step = (right - left) / Double(max(points.count - 1, 1))
        func x(_ index: Int) -> Double { points.count == 1 ? (left + right) / 2 : left + Double(index) * step }
        let index = Dictionary(uniqueKeysWithValues: points.enumerated().map { ($0.element.period, $0.offset) })

        // Grid and y axis.
        svg.open("g", ["class": "axis y-axis"])
        for tick in y.ticks {
            let ty = Format.coordinate(y(tick))
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(left), "x2": Format.coordinate(right), "y1": ty, "y2": ty,
                    "stroke": Palette.grid,
                ])
            svg.element(
                "text",
                [
                    "x": Format.coordinate(left - 8), "y": Format.coordinate(y(tick) + 5), "text-anchor": "end",
                    "font-size": "14", "fill": Palette.ink,
                ], text: Format.number(tick))
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label y",
                "transform": "translate(20 \(Format.coordinate((top + bottom) / 2))) rotate(-90)",
                "text-anchor": "middle", "font-size": "15", "fill": Palette.ink,
            ], text: panel.valueAxisLabel)

        // x axis: at most about nine labels.
        svg.open("g", ["class": "axis x-axis"])
        svg.element(
            "line",
            [
                "x1": Format.coordinate(left), "x2": Format.coordinate(right), "y1": Format.coordinate(bottom),
                "y2": Format.coordinate(bottom), "stroke": Palette.ink,
            ])
        let every = max(1, Int((Double(points.count) / 8).rounded(.up)))
        for (i, entry) in points.enumerated() where i % every == 0 {
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(x(i)), "x2": Format.coordinate(x(i)), "y1": Format.coordinate(bottom),
                    "y2": Format.coordinate(bottom + 6), "stroke": Palette.ink,
                ])
            svg.element(
                "text",
                [
                    "x": Format.coordinate(x(i)), "y": Format.coordinate(bottom + 24), "text-anchor": "middle",
                    "font-size": "14", "fill": Palette.ink,
                ], text: entry.period.description)
        }
        svg.close("g")
        svg.element(
            "text",
            [
                "class": "axis-label x", "x": Format.coordinate((left + right) / 2),
                "y": Format.coordinate(height - 16), "text-anchor": "middle", "font-size": "15", "fill": Palette.ink,
            ], text: "Period (\(profile.periodType.rawValue))")

        // Withheld periods: hatched bands, labelled.
        let suppressedIndices = points.indices.filter {
            if case .suppressed = points[$0].point { return true } else { return false }
        }
        if !suppressedIndices.isEmpty {
            svg.raw(SVGDocument.hatch(id: "\(id)-hatch"))
            svg.open("g", ["class": "suppressed-periods"])
            for i in suppressedIndices {
                let w = max(step * 0.8, 6)
                svg.open("g", ["class": "suppressed", "data-period": points[i].period.description])
                svg.element("title", [:], text: "\(points[i].period): suppressed (small cell)")
                svg.element(
                    "rect",
                    [
                        "x": Format.coordinate(x(i) - w / 2), "y": Format.coordinate(top),
                        "width": Format.coordinate(w), "height": Format.coordinate(bottom - top),
                        "fill": "url(#\(id)-hatch)", "opacity": "0.8",
                    ])
                svg.close("g")
            }
            svg.element(
                "text",
                [
                    "x": Format.coordinate(x(suppressedIndices[0])), "y": Format.coordinate(top - 6),
                    "text-anchor": "middle", "font-size": "13", "fill": Palette.ink, "class": "suppressed-label",
                ], text: "suppressed")
            svg.close("g")
        }

        // Baseline and target lines, labelled at the right.
        var labelYs: [Double] = []
        func sideLabel(_ text: String, at value: Double, color: String, cls: String) {
            var ly = y(value) + 5
            while labelYs.contains(where: { abs($0 - ly) < 18 }) { ly += 18 }
            labelYs.append(ly)
            svg.element(
                "text",
                [
                    "x": Format.coordinate(right + 8), "y": Format.coordinate(ly), "font-size": "14", "fill": color,
                    "class": cls,
                ], text: text)
        }
        if let target = profile.target {
            let ty = Format.coordinate(y(target.value))
            svg.open("g", ["class": "target-line"])
            svg.element("title", [:], text: "Target: \(panel.format(target.value)) by \(target.period)")
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(left), "x2": Format.coordinate(right), "y1": ty, "y2": ty,
                    "stroke": Palette.target, "stroke-width": "2.5", "stroke-dasharray": "10 5",
                ])
            if let i = index[target.period] {
                svg.element(
                    "path",
                    [
                        "d":
                            "M \(Format.coordinate(x(i))) \(Format.coordinate(y(target.value) - 8)) l 8 8 l -8 8 l -8 -8 z",
                        "fill": Palette.target,
                    ])
            }
            svg.close("g")
            sideLabel(
                "Target \(panel.format(target.value))", at: target.value, color: Palette.target, cls: "target-label")
        }
        if let baseline = profile.baseline {
            let by = Format.coordinate(y(baseline.value))
            svg.open("g", ["class": "baseline-line"])
            svg.element("title", [:], text: "Baseline: \(panel.format(baseline.value)) in \(baseline.period)")
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(left), "x2": Format.coordinate(right), "y1": by, "y2": by,
                    "stroke": Palette.baseline, "stroke-width": "1.5", "stroke-dasharray": "2 4",
                ])
            svg.close("g")
            sideLabel(
                "Baseline \(panel.format(baseline.value))", at: baseline.value, color: Palette.baseline,
                cls: "baseline-label")
        }

        // The projection: from the latest value to the target period at the current pace.
        if let projected = panel.line.projected, let target = profile.target, let latest = panel.line.latestPeriod,
            let from = index[latest], let to = index[target.period], to > from,
            case .value(let now) = points[from].point
        {
            svg.open("g", ["class": "projection"])
            svg.element(
                "title", [:], text: "Projected at the current pace: \(panel.format(projected)) by \(target.period)")
            svg.element(
                "line",
                [
                    "x1": Format.coordinate(x(from)), "y1": Format.coordinate(y(now)), "x2": Format.coordinate(x(to)),
                    "y2": Format.coordinate(y(projected)), "stroke": Palette.projection, "stroke-width": "2",
                    "stroke-dasharray": "4 4",
                ])
            svg.element(
                "circle",
                [
                    "cx": Format.coordinate(x(to)), "cy": Format.coordinate(y(projected)), "r": "5", "fill": "#ffffff",
                    "stroke": Palette.projection, "stroke-width": "2",
                ])
            svg.close("g")
            sideLabel(
                "Projected \(panel.format(projected))", at: projected, color: Palette.projection,
                cls: "projection-label")
        }

        // The series: one path per run of consecutive values; a missing or withheld period breaks it.
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
        svg.open("g", ["class": "series", "fill": "none", "stroke": Palette.series, "stroke-width": "3"])
        for run in runs where run.count > 1 {
            let d = run.enumerated().map { offset, i -> String in
                guard case .value(let v) = points[i].point else { return "" }
                return (offset == 0 ? "M " : "L ") + Format.coordinate(x(i)) + " " + Format.coordinate(y(v))
            }.joined(separator: " ")
            svg.element("path", ["class": "run", "d": d])
        }
        svg.close("g")
        svg.open("g", ["class": "points", "fill": Palette.series])
        for (i, entry) in points.enumerated() {
            guard case .value(let v) = entry.point else { continue }
            svg.open(
                "circle",
                [
                    "class": "point", "cx": Format.coordinate(x(i)), "cy": Format.coordinate(y(v)), "r": "4",
                    "data-period": entry.period.description,
                ])
            svg.element("title", [:], text: "\(entry.period): \(panel.format(v))")
            svg.close("circle")
        }
        svg.close("g")
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
