import DomainModel
import HTTPServer
import JSON

/// `GET /v1/reports/scorecard`: the agenda and a line per indicator; as CSV, a row per indicator.
struct ScorecardWriter: ReportWriter {
    let agenda: String

    func response(_ lines: [ScorecardLine], as representation: Representation) -> HTTPResponse {
        let document = JSONValue.object(["agenda": .string(agenda), "indicators": .array(lines.map(Self.json))])
        if representation == .csv {
            return CSVDocument.table(document, rows: "indicators", leading: ["indicator", "name", "period", "value"])
                .response()
        }
        return .json(document)
    }

    static func json(_ line: ScorecardLine) -> JSONValue {
        let info = line.indicator
        var members: [String: JSONValue] = [
            "indicator": .string(info.code), "name": .string(info.name), "unit": JSONValue(info.unit),
            "aggregation": .string(info.profile.method.rawValue),
            "period": JSONValue(line.latestPeriod?.description), "value": JSONValue(line.latest?.value),
            "previous_period": JSONValue(line.previousPeriod?.description),
            "previous_value": JSONValue(line.previous?.value),
            "trend": JSONValue(line.trend), "improving": JSONValue(line.improving),
            "baseline": info.profile.baseline.map {
                .object(["period": .string($0.period.description), "value": .number($0.value)])
            } ?? .null,
            "target": info.profile.target.map {
                .object(["period": .string($0.period.description), "value": .number($0.value)])
            } ?? .null,
            "progress": JSONValue(line.latest?.progress), "projected": JSONValue(line.projected),
            "on_track": JSONValue(line.onTrack),
            "suppressed": .bool(line.latest?.suppressed ?? false),
        ]
        if let openFlags = line.openFlags { members["open_flags"] = JSONValue(openFlags) }
        return .object(members)
    }
}
