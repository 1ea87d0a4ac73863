import Aggregation
import BackboneCore
import HTTPServer
import JSON

/// `GET /v1/reports/indicators/{code}`: the heading (indicator, range, total, releases)
/// and a row per cell; as CSV, a row per cell with the heading in its own section.
struct IndicatorReportWriter: ReportWriter {
    let groupings: [Grouping]
    /// The period type asked for; the indicator's own when `nil`.
    let periodType: PeriodType?
    let range: Reports.PeriodRange

    func response(_ answer: Reports.IndicatorReport, as representation: Representation) -> HTTPResponse {
        let (info, report) = (answer.indicator, answer.report)
        let row = ReportEncoding.RowShape(groupings: groupings)
        let heading: [(String, JSONValue)] = [
            ("indicator", .string(info.code)), ("name", .string(info.name)), ("unit", JSONValue(info.unit)),
            ("aggregation", .string(info.profile.method.rawValue)),
            ("period_type", .string((periodType ?? info.profile.periodType).rawValue)),
            ("by", .array(groupings.map { .string($0.name) })),
            ("from", JSONValue(range.from?.description)), ("to", JSONValue(range.to?.description)),
            ("total", ReportEncoding.json(report.total, groupings: [])),
            ("releases", ReportEncoding.releases(answer.releases)),
        ]
        if representation == .csv {
            var document = Dictionary(uniqueKeysWithValues: heading)
            document["rows"] = .array(report.rows.map(row.json))
            let leading = groupings.map { grouping -> String in
                if case .dimension(let name) = grouping { return "dim.\(name)" }
                return grouping.name
            }
            return CSVDocument.table(
                .object(document), rows: "rows", leading: leading + ["value", "measurements", "partners"]
            ).response()
        }
        // The rows are written straight from the cells, their keys sorted once (`RowShape`).
        var body: [UInt8] = []
        body.reserveCapacity(256 * (report.rows.count + 1))
        JSONObjectShape(heading.map(\.0) + ["rows"]).write(into: &body) { position, output in
            guard position < heading.count else {
                output.append(UInt8(ascii: "["))
                for (index, cell) in report.rows.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    row.write(cell, into: &output)
                }
                output.append(UInt8(ascii: "]"))
                return true
            }
            heading[position].1.write(into: &output)
            return true
        }
        return HTTPResponse(contentType: "application/json", body: body)
    }
}
