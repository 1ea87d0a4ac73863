import BackboneCore
import HTTPServer
import Postgres

/// `/v1/agendas/{id}/template.csv` and `/v1/indicators/{code}/template.csv`: the
/// spreadsheet a partner fills in and uploads (see `UploadTemplate`).
struct TemplateRoutes {
    let pool: ConnectionPool
    let authenticator: Authenticator

    static let csv = Representation(mediaType: "text/csv", format: "csv")

    func register(in router: inout Router) {
        let pool = self.pool
        let authenticator = self.authenticator
        router.get("/v1/agendas/{id}/template.csv", offers: [Self.csv]) { request in
            let caller = try await authenticator.caller(of: request)
            let agenda = request.parameter("id")
            let template = try await database(pool, transaction: false) {
                try UploadTemplate.load($0, agenda: agenda, indicator: nil, partner: caller.key.partner)
            }
            return Self.response(template, filename: "\(agenda)-template.csv")
        }
        router.get("/v1/indicators/{code}/template.csv", offers: [Self.csv]) { request in
            let caller = try await authenticator.caller(of: request)
            let code = request.parameter("code")
            let template = try await database(pool, transaction: false) {
                try UploadTemplate.load($0, agenda: nil, indicator: code, partner: caller.key.partner)
            }
            return Self.response(template, filename: "\(code)-template.csv")
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
