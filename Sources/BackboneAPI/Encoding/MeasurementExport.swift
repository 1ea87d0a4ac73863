import BackboneCore
import Foundation
import HTTPServer
import Postgres

#if canImport(Glibc)
import Glibc
#endif

/// The measurement export as CSV, streamed: every selected row, read from the database
/// in keyset-paginated chunks (`id > last`), each chunk written before the next is
/// read, so memory stays the same whatever the row count.
///
/// Its columns and cells are those `CSVDocument` makes of the JSON page (the `id` …
/// `note` columns, `dim.NAME` for each dimension the selection carries, then
/// `batch_id`, `created_at`, `updated_at`); a test holds the two equal.
enum MeasurementExport {
    /// Rows read from the database per chunk.
    static let chunkRows = 2000

    static func columns(dimensions: [String]) -> [String] {
        ["id", "partner", "indicator", "neighborhood", "period", "value", "numerator", "denominator"]
            + dimensions.map { "dim.\($0)" } + ["note", "batch_id", "created_at", "updated_at"]
    }

    static func response(pool: ConnectionPool, filter: MeasurementRecords.Filter, after cursor: Int?, bom: Bool) async throws -> HTTPResponse {
        let dimensions = try await database(pool, transaction: false) { try MeasurementRecords.dimensionNames($0, filter: filter) }
        let columns = Self.columns(dimensions: dimensions)
        return .streaming(contentType: "text/csv; charset=utf-8") { writer in
            var text = bom ? "\u{FEFF}" : ""
            text += columns.map(CSVTable.escape).joined(separator: ",") + "\r\n"
            var after = cursor
            while true {
                let last = after
                let chunk = try await database(pool, transaction: false) {
                    try MeasurementRecords.list($0, filter: filter, after: last, limit: chunkRows)
                }
                for record in chunk { append(record, dimensions: dimensions, to: &text) }
                try await writer.write(text)
                text = ""
                guard chunk.count == chunkRows, let next = chunk.last?.id else { break }
                after = next
            }
        }
    }

    static func append(_ record: MeasurementRecord, dimensions: [String], to text: inout String) {
        func cell(_ value: String?) {
            if let value { text += CSVTable.escape(CSVTable.neutralised(value)) }
            text += ","
        }
        func number(_ value: Double?) { cell(ReportEncoding.text(JSONValue(value))) }
        cell(String(record.id))
        cell(record.partner)
        cell(record.indicator)
        cell(record.neighborhood)
        cell(record.period)
        number(record.value)
        number(record.numerator)
        number(record.denominator)
        for name in dimensions { cell(record.dimensions[name]) }
        cell(record.note)
        cell(record.batchID)
        cell(timestamp(record.createdAt))
        text += timestamp(record.updatedAt)
        text += "\r\n"
    }

    /// `2026-11-25T15:01:32Z`, as the JSON writes dates.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "Z"
    }
}
