import BackboneCore
import Foundation
import HTTPServer
import Postgres

/// The measurement export as CSV, streamed: every selected row, read from the database
/// in keyset-paginated chunks (`id > last`), each chunk written before the next is
/// read, so memory stays the same whatever the row count.
///
/// Its columns and cells are those `CSVDocument` makes of the JSON page (`CSVRecords`):
/// `MeasurementRoutes.csvLeading` first, `dim.NAME` for each dimension the selection
/// carries, then the record's other fields.
enum MeasurementExport {
    /// Rows read from the database per chunk.
    static let chunkRows = 2000

    static func response(pool: ConnectionPool, filter: MeasurementRecords.Filter, after cursor: Int?, bom: Bool)
        async throws -> HTTPResponse
    {
        let dimensions = try await database(pool, transaction: false) {
            try MeasurementRecords.dimensionNames($0, filter: filter)
        }
        let rows = CSVRecords(prototype: prototype(dimensions: dimensions).json, leading: MeasurementRoutes.csvLeading)
        return .streaming(contentType: "text/csv; charset=utf-8") { writer in
            var text = (bom ? "\u{FEFF}" : "") + rows.header
            var after = cursor
            while true {
                let last = after
                let chunk = try await database(pool, transaction: false) {
                    try MeasurementRecords.list($0, filter: filter, after: last, limit: chunkRows)
                }
                for record in chunk { text += rows.row(record.json) }
                try await writer.write(text)
                text = ""
                guard chunk.count == chunkRows, let next = chunk.last?.id else { break }
                after = next
            }
        }
    }

    /// A record carrying every dimension of the selection: its JSON names the export's columns.
    static func prototype(dimensions: [String]) -> MeasurementRecord {
        MeasurementRecord(
            id: 0, partner: "", indicator: "", neighborhood: "", period: "", value: nil, numerator: nil,
            denominator: nil,
            dimensions: Dictionary(uniqueKeysWithValues: dimensions.map { ($0, "") }), note: nil, batchID: "",
            createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))
    }
}
