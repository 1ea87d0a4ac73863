import Aggregation
import BackboneCore
import DomainModel
import HTTPServer
import JSON

/// `GET /v1/reports/equity`: every neighborhood against the target, ranked by gap; as
/// CSV, a row per neighborhood.
struct EquityWriter: ReportWriter {
    let period: Period

    func response(_ answer: (Indicator, [EquityLine], releases: [Release.Stamp]?), as representation: Representation)
        -> HTTPResponse
    {
        let (info, lines, releases) = answer
        let rows = Self.rows(lines)
        let document = JSONValue.object([
            "indicator": .string(info.code), "period": .string(period.description),
            "direction": .string(info.profile.increaseIsBetter ? "increase" : "decrease"),
            "target": JSONValue(info.profile.target?.value), "neighborhoods": .array(rows),
            "releases": ReportEncoding.releases(releases),
        ])
        if representation == .csv {
            return CSVDocument.table(document, rows: "neighborhoods", leading: ["rank", "neighborhood", "value"])
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
            object["population"] = JSONValue(line.population)
            return .object(object)
        }
    }
}
