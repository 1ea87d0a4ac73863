import Aggregation
import Foundation
import Postgres

/// The spreadsheet a partner fills in to upload measurements: the header its upload
/// needs (one `dim.NAME` column per dimension) and one example row per indicator, with
/// the value left empty (a template must never be uploadable as fake zeros).
public struct UploadTemplate: Sendable {
    public var header: [String]
    public var rows: [[String]]

    /// The template for every active indicator of an agenda, or for one indicator.
    /// `partner` prefills the partner column (a partner key's own).
    public static func load(_ connection: Connection, agenda: String?, indicator: String?, partner: String?) throws
        -> UploadTemplate
    {
        if let agenda, try connection.query("SELECT 1 FROM agendas WHERE id = \(agenda)").isEmpty {
            throw DomainError.notFound("No agenda \(agenda).")
        }
        let selected = try IndicatorStore.select(
            connection,
            where: """
                (\(agenda)::text IS NULL OR agenda_id = \(agenda)) AND (\(indicator)::text IS NULL OR code = \(indicator))
                  AND (active OR \(indicator)::text IS NOT NULL)
                """)
        if let indicator, selected.isEmpty { throw DomainError.notFound("No indicator \(indicator).") }
        let neighborhood =
            try connection.query("SELECT code FROM neighborhoods ORDER BY parent_code IS NULL, code LIMIT 1")
            .first.map { try $0.decode(String.self, at: 0) } ?? ""
        let indicators = selected.map {
            (
                code: $0.code, ratio: $0.aggregation == .ratio, period: Self.examplePeriod($0.periodType),
                dimensions: $0.dimensions
            )
        }
        let anyRatio = indicators.contains { $0.ratio }
        let anyValue = indicators.contains { !$0.ratio } || indicators.isEmpty
        let dimensionNames = Array(Set(indicators.flatMap { $0.dimensions.map(\.name) })).sorted()
        var header = ["partner", "indicator", "neighborhood", "period"]
        if anyValue { header.append("value") }
        if anyRatio { header += ["numerator", "denominator"] }
        header += dimensionNames.map { "dim.\($0)" }
        header.append("note")
        var template = UploadTemplate(header: header, rows: [])
        for indicator in indicators {
            var cells: [String: String] = [
                "partner": partner ?? "", "indicator": indicator.code, "neighborhood": neighborhood,
                "period": indicator.period,
            ]
            for dimension in indicator.dimensions { cells["dim.\(dimension.name)"] = dimension.values.first ?? "" }
            template.rows.append(header.map { cells[$0] ?? "" })
        }
        return template
    }

    /// The last complete period of a type (last month, last quarter, last year, last week of last year).
    static func examplePeriod(_ type: PeriodType) -> String {
        let today = Period.today()
        let month = Period(type: .month, year: today.year, index: today.month)!
        switch type {
        case .week: return Period(type: .week, year: today.year, index: 1)!.previous!.description
        default: return month.rolled(to: type).previous!.description
        }
    }
}
