import DomainModel
import HTTPServer

/// `GET /v1/reports/completeness`: the report as its wire JSON (`Wire/CompletenessJSON.swift`);
/// as CSV, a row per commitment.
struct CompletenessWriter: ReportWriter {
    func response(_ report: CompletenessReport, as representation: Representation) -> HTTPResponse {
        if representation == .csv {
            return CSVDocument.table(
                report.json, rows: "entries", leading: ["partner", "indicator", "neighborhood", "id"]
            ).response()
        }
        return .json(report)
    }
}
