import BackboneCore
import HTTPServer
import Postgres

/// `/v1/agendas/{id}/template.csv` and `/v1/indicators/{code}/template.csv`: the
/// spreadsheet a partner fills in and uploads (see `UploadTemplate`).
struct TemplateRoutes {
    let pool: ConnectionPool

    static let csv = Representation(mediaType: "text/csv", format: "csv")

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        // An agenda's template lists its indicators; an indicator's, that one.
        for (pattern, parameter, byAgenda) in [
            ("/v1/agendas/{id}/template.csv", "id", true), ("/v1/indicators/{code}/template.csv", "code", false),
        ] {
            routes.get(pattern, .anyKey, offers: [Self.csv]) { _, context in
                let partner = context.caller.key.partner
                let key = context.parameters.require(parameter)
                let template = try await database(pool, transaction: false) {
                    try UploadTemplate.load(
                        $0, agenda: byAgenda ? key : nil, indicator: byAgenda ? nil : key, partner: partner)
                }
                return Self.response(template, filename: "\(key)-template.csv")
            }
        }
    }

    static func response(_ template: UploadTemplate, filename: String) -> HTTPResponse {
        var table = CSVTable(header: template.header)
        for row in template.rows { table.append(row) }
        var response = table.response()
        let safe = filename.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        response.headers.add(name: "content-disposition", value: "attachment; filename=\"\(safe)\"")
        return response
    }
}
