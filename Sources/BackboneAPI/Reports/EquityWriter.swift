import Aggregation
import BackboneCore
import DomainModel
import HTTPServer
import JSON

/// `GET /v1/reports/equity`: every neighborhood against the target, ranked by gap, saying
/// what is compared (rates per 1,000 residents or values) and why a line has no gap; as
/// CSV, a row per neighborhood.
struct EquityWriter: ReportWriter {
    let period: Period

    func response(_ answer: (Indicator, [EquityLine], releases: [Release.Stamp]?), as representation: Representation)
        -> HTTPResponse
    {
        let (info, lines, releases) = answer
        // Every line carries the same comparison; without lines it is the indicator's own.
        let comparison = lines.first?.comparison ?? EquityComparison(info.profile, communityPopulation: nil)
        let rows = Self.rows(lines)
        let document = JSONValue.object([
            "indicator": .string(info.code), "period": .string(period.description),
            "direction": .string(info.profile.increaseIsBetter ? "increase" : "decrease"),
            "target": JSONValue(info.profile.target?.value), "compared": .string(comparison.name),
            "target_per_1000": JSONValue(comparison.targetPer1000),
            "neighborhoods": .array(rows),
            "releases": ReportEncoding.releases(releases),
        ])
        if representation == .csv {
            return CSVDocument.table(
                document, rows: "neighborhoods",
                leading: ["rank", "neighborhood", "value", "per_1000", "gap", "gap_reason"]
            )
            .response()
        }
        return .json(document)
    }

    /// The neighborhoods' rows, ranked as `lines` are (largest gap first).
    static func rows(_ lines: [EquityLine]) -> [JSONValue] {
        lines.enumerated().map { rank, line in
            var object = ReportEncoding.json(line.cell, groupings: [.neighborhood]).objectValue ?? [:]
            object["rank"] = JSONValue(rank + 1)
            object["gap"] = JSONValue(line.cell.suppressed ? nil : line.gap)
            object["gap_reason"] = JSONValue(line.gapReason?.rawValue)
            object["population"] = JSONValue(line.population)
            return .object(object)
        }
    }
}
