import DomainModel
import HTTPServer

/// `GET /v1/reports/completeness`: the report as its wire JSON (`Wire/CompletenessJSON.swift`);
/// as CSV, a row per commitment (without its list of reminders).
struct CompletenessWriter: ReportWriter {
    func response(_ report: CompletenessReport, as representation: Representation) -> HTTPResponse {
        if representation == .csv {
            var document = report.json.objectValue ?? [:]
            document["entries"] = .array(
                report.entries.map { entry in
                    var members = entry.json.objectValue ?? [:]
                    members["reminders"] = nil
                    return .object(members)
                })
            return CSVDocument.table(
                .object(document), rows: "entries", leading: ["partner", "indicator", "neighborhood", "id"]
            ).response()
        }
        return .json(report)
    }
}
