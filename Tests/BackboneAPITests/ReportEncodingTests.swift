import Aggregation
import JSON
import Testing

@testable import BackboneAPI

@Suite("Report rows on the wire")
struct ReportEncodingTests {
    @Test func aRowIsWrittenWithItsKeysSorted() {
        var cell = Cell(key: ["neighborhood": "northside", "dimension:age_group": "16-24"])
        cell.value = 3
        cell.measurements = 2
        cell.partners = 1
        var written: [UInt8] = []
        ReportEncoding.RowShape(groupings: [.neighborhood, .dimension("age_group")]).write(cell, into: &written)
        #expect(
            String(decoding: written, as: UTF8.self)
                == #"{"baseline":null,"change":null,"dimensions":{"age_group":"16-24"},"max":null,"mean":null,"measurements":2,"#
                + #""median":null,"min":null,"neighborhood":"northside","partners":1,"per_1000":null,"progress":null,"#
                + #""suppressed":false,"target":null,"value":3}"#)
    }

    @Test(arguments: [
        [Grouping](), [.period], [.neighborhood, .partner, .period], [.dimension("b"), .dimension("a"), .period],
    ])
    func writtenRowsEqualTheirJSONValue(groupings: [Grouping]) {
        let row = ReportEncoding.RowShape(groupings: groupings)
        for (index, reportedAbove) in [nil, true, false].enumerated() {
            var cell = Cell(key: Dictionary(uniqueKeysWithValues: groupings.map { ($0.name, "g\(index)") }))
            cell.value = Double(index) + 0.5
            cell.suppressed = index == 1
            cell.reportedAbove = reportedAbove
            var written: [UInt8] = []
            row.write(cell, into: &written)
            #expect(written == row.json(cell).jsonBytes)
            if reportedAbove == nil { #expect(!String(decoding: written, as: UTF8.self).contains("reported_above")) }
        }
    }
}
