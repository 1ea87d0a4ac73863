import Aggregation
import Dashboard
import DomainModel

/// Fixed report data for the snapshot tests: an indicator with a baseline, a target, a
/// month nobody reported, a withheld month, and neighborhoods with a withheld one and a
/// partner-written name that must be escaped.
enum Fixtures {
    static func cell(
        _ key: [String: String], _ value: Double?, suppressed: Bool = false, per1000: Double? = nil,
        change: Double? = nil
    ) -> Cell {
        var cell = Cell(key: key)
        cell.value = suppressed ? nil : value
        cell.suppressed = suppressed
        cell.per1000 = per1000
        cell.change = change
        cell.partners = suppressed ? 0 : 3
        cell.measurements = suppressed ? 0 : 9
        return cell
    }

    static func info(
        code: String = "esl_learners", name: String = "Adults enrolled in ESL", target: Bool = true,
        method: AggregationMethod = .sum, scale: Double = 1
    ) -> Indicator {
        Indicator(
            code: code, agenda: "literacy", name: name, unit: scale == 100 ? "%" : "learners",
            valueType: scale == 100 ? .percent : .count, aggregation: scale == 100 ? .ratio : method,
            periodType: .month,
            direction: .increase,
            baseline: target ? .init(period: Period("2025-01")!, value: 300) : nil,
            target: target ? .init(period: Period("2025-12")!, value: 900) : nil, min: 0, max: 10_000, dimensions: [],
            active: true)
    }

    /// Jan–Aug 2025: April not reported (a gap), June withheld. The neighborhoods compare
    /// rates per 1,000 residents (a count against the community's 900, whose four
    /// neighborhoods hold 310,000 residents: 2.9 per 1,000), or, with `rates` false, values
    /// (as a percentage or a mean would).
    static func panel(suppressed: Bool = true, target: Bool = true, rates: Bool = true) -> IndicatorPanel {
        let info = info(target: target)
        let values: [(String, Double?)] = [
            ("2025-01", 310), ("2025-02", 340), ("2025-03", 395), ("2025-05", 450), ("2025-06", 480), ("2025-07", 520),
            ("2025-08", 560),
        ]
        let series = values.map { period, value in
            cell(
                ["period": period], value, suppressed: suppressed && period == "2025-06",
                change: period == "2025-08" ? 40 : nil)
        }
        var line = ScorecardLine(indicator: info)
        line.latest = series.last
        line.previous = series[series.count - 2]
        line.latestPeriod = Period("2025-08")
        line.previousPeriod = Period("2025-07")
        line.trend = "up"
        line.improving = true
        line.onTrack = target ? false : nil
        line.projected = target ? 720 : nil
        line.latest?.progress = target ? 260.0 / 600 : nil
        let targetRate = target ? 900 * 1000 / 310_000.0 : nil
        let comparison: EquityComparison = rates ? .ratePer1000(target: targetRate) : .value
        func equityLine(_ code: String, _ population: Int, _ value: Double?, per1000: Double?, valueGap: Double?)
            -> EquityLine
        {
            let rateGap = targetRate.flatMap { target in per1000.map { target - $0 } }
            let gap = target ? (rates ? rateGap : valueGap) : nil
            let reason: EquityLine.GapReason? =
                code == "southside" ? (suppressed ? .withheld : .noValue) : (target ? nil : .noTarget)
            return EquityLine(
                neighborhood: code, population: population,
                cell: cell(
                    ["neighborhood": code], value, suppressed: code == "southside" && suppressed, per1000: per1000),
                gap: gap, gapReason: reason, comparison: comparison)
        }
        let neighborhoods = [
            equityLine("riverside", 101_800, 120, per1000: 1.18, valueGap: 780),
            equityLine("northside", 48_200, 160, per1000: 3.32, valueGap: 740),
            equityLine("hillcrest", 70_000, 280, per1000: 4, valueGap: 620),
            equityLine("southside", 90_000, nil, per1000: nil, valueGap: nil),
        ]
        let names = [
            "riverside": "Riverside", "northside": "North <side> & \"Co\"", "hillcrest": "Hillcrest",
            "southside": "Southside",
        ]
        return IndicatorPanel(line: line, series: series, neighborhoods: neighborhoods, neighborhoodNames: names)
    }

    static func completeness() -> CompletenessGrid {
        func report(_ period: String, _ entries: [(String, Bool)]) -> (period: Period, report: CompletenessReport) {
            let list = entries.map {
                CompletenessReport.Entry(
                    partner: $0.0, indicator: "esl_learners", neighborhood: nil, reported: $0.1,
                    measurements: $0.1 ? 4 : 0)
            }
            return (
                Period(period)!,
                CompletenessReport(
                    agenda: "literacy", period: period, committed: list.count, reported: list.filter(\.reported).count,
                    rate: nil, entries: list, partners: [], indicators: [])
            )
        }
        return CompletenessGrid(
            reports: [
                report("2025-Q3", [("central-library", true), ("grace-church", false)]),
                report("2025-Q4", [("central-library", true), ("grace-church", true)]),
                report("2026-Q1", [("central-library", false), ("grace-church", true)]),
            ],
            partnerNames: ["central-library": "Central Library", "grace-church": "Grace <Church>"], graceDays: 30,
            today: Day(year: 2026, month: 4, day: 10))
    }
}
