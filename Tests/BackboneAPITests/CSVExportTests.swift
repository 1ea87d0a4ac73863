import BackboneCore
import Foundation
import JSON
import TestSupport
import Testing

/// Every CSV carries what its JSON carries, and nothing a spreadsheet would run.
@Suite("CSV exports")
struct CSVExportTests {
    /// A JSON value's leaves under flattened names: objects with `_`, `dimensions` as `dim.NAME`,
    /// arrays of objects with their index, arrays of plain values kept whole.
    static func leaves(_ value: JSONValue, _ prefix: String = "") -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        switch value {
        case .object(let members):
            for (name, member) in members {
                if prefix.isEmpty, name == "dimensions", case .object(let dimensions) = member {
                    for (dimension, text) in dimensions { result["dim.\(dimension)"] = text }
                } else {
                    result.merge(leaves(member, prefix.isEmpty ? name : "\(prefix)_\(name)")) { $1 }
                }
            }
        case .array(let elements) where elements.contains(where: { $0.objectValue != nil }):
            for (index, element) in elements.enumerated() { result.merge(leaves(element, "\(prefix)_\(index)")) { $1 } }
        default:
            result[prefix] = value
        }
        return result
    }

    /// Whether a CSV cell holds a JSON leaf's value.
    static func same(_ cell: String, _ value: JSONValue) -> Bool {
        switch value {
        case .null: return cell.isEmpty
        case .bool(let flag): return cell == (flag ? "true" : "false")
        case .number(let number): return Double(cell) == number
        case .string(let text): return cell == text || (cell == "'" + text && "=+-@\t\r".contains(text.first ?? " "))
        case .array(let elements):
            return cell
                == elements.map { element -> String in
                    if case .string(let text) = element { return text }
                    if case .number(let number) = element { return String(number) }
                    return ""
                }.joined(separator: ",")
        case .object: return false
        }
    }

    /// Checks that `csv` has a row for every element of `main` (in order), for every other
    /// list of objects and object member, and a `report` row for the plain members, with
    /// a column for each JSON field holding the same value, and no column beyond them.
    static func expectCSV(
        _ csv: String, carries document: JSONValue, main: String, omit: Set<String> = [], _ what: String
    ) throws {
        let table = ReportTests.parseCSV(csv)
        let header = try #require(table.first, "\(what): empty CSV")
        let lines = Array(table.dropFirst())
        #expect(Set(header).count == header.count, "\(what): duplicate columns \(header)")
        let members = try #require(document.objectValue).filter { !omit.contains($0.key) }
        var expected: [(section: String, leaves: [String: JSONValue])] = []
        var plain: [String: JSONValue] = [:]
        for (name, member) in members {
            switch member {
            case .array(let elements) where name == main || elements.contains(where: { $0.objectValue != nil }):
                expected += elements.map { (name, leaves($0)) }
            case .object: expected.append((name, leaves(member)))
            default: plain[name] = member
            }
        }
        if !plain.isEmpty { expected.append(("report", leaves(.object(plain)))) }
        let sectioned = header.first == "section"
        #expect(sectioned == (Set(expected.map(\.section)).count > 1), "\(what): section column \(header)")
        #expect(lines.count == expected.count, "\(what): \(lines.count) rows for \(expected.count) JSON rows")
        var columns: Set<String> = sectioned ? ["section"] : []
        for section in Set(expected.map(\.section)) {
            let jsonRows = expected.filter { $0.section == section }.map(\.leaves)
            let csvRows = sectioned ? lines.filter { $0.first == section } : lines
            #expect(csvRows.count == jsonRows.count, "\(what): section \(section)")
            for (line, object) in zip(csvRows, jsonRows) {
                for (index, column) in header.enumerated() where column != "section" && object[column] == nil {
                    #expect(
                        line[index].isEmpty,
                        "\(what): \(section) has '\(line[index])' under \(column), which its JSON lacks")
                }
                for (name, value) in object {
                    guard let index = header.firstIndex(of: name) else {
                        // null where other rows have an object: its flattened columns stand for it.
                        if value == .null, header.contains(where: { $0.hasPrefix(name + "_") }) { continue }
                        Issue.record("\(what): no CSV column for \(section).\(name)")
                        continue
                    }
                    columns.insert(name)
                    #expect(
                        same(line[index], value),
                        "\(what): \(section).\(name) is \(value) in JSON, '\(line[index])' in CSV")
                }
            }
        }
        #expect(Set(header) == columns, "\(what): columns without a JSON field: \(Set(header).subtracting(columns))")
    }

    @Test func everyReportsCSVCarriesEveryJSONField() async throws {
        let app = try await ReportTests.start()
        _ = try await app.coordinator("POST", "/v1/commitments", json: #"{"partner": "p4", "indicator": "pass_rate"}"#)
        _ = try await app.coordinator(
            "POST", "/v1/commitments",
            json: #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside"}"#)
        let reports: [(path: String, main: String, omit: Set<String>)] = [
            ("/v1/reports/indicators/esl_learners?by=neighborhood,period,dimension:age_group", "rows", []),
            ("/v1/reports/indicators/esl_learners?by=partner", "rows", []),
            ("/v1/reports/indicators/esl_learners?from=2026-01&to=2026-06", "rows", []),
            ("/v1/reports/indicators/pass_rate?by=neighborhood&period=2026-Q1", "rows", []),
            ("/v1/reports/scorecard?agenda=literacy", "indicators", []),
            ("/v1/reports/completeness?agenda=literacy&period=2026-Q1", "entries", []),
            ("/v1/reports/equity?indicator=esl_learners&period=2026-01", "neighborhoods", []),
            ("/v1/reports/equity?indicator=pass_rate&period=2026-Q1&level=0", "neighborhoods", []),
            ("/v1/measurements?limit=1000", "items", ["next_cursor"]),
        ]
        let viewer = try await app.key(role: "viewer")
        for (path, main, omit) in reports {
            for key in [app.coordinator, viewer]
            where !(key == viewer && (path.contains("completeness") || path.contains("measurements"))) {
                let json = try await app.request("GET", path, key: key)
                let csv = try await app.request("GET", path + (path.contains("?") ? "&" : "?") + "format=csv", key: key)
                #expect(json.status == 200 && csv.status == 200, "\(path): \(json.status) \(csv.status) \(csv.text)")
                try Self.expectCSV(csv.text, carries: try JSONValue.parse(json.body), main: main, omit: omit, path)
            }
        }
        // The scorecard's baseline and target, empty before, are flattened.
        let scorecard = ReportTests.parseCSV(
            try await app.coordinator("GET", "/v1/reports/scorecard?agenda=literacy&format=csv").text)
        let header = scorecard[0]
        let passRate = try #require(scorecard.first { $0.contains("pass_rate") })
        #expect(passRate[header.firstIndex(of: "baseline_period")!] == "2025-Q4")
        #expect(passRate[header.firstIndex(of: "baseline_value")!] == "50")
        #expect(passRate[header.firstIndex(of: "target_value")!] == "90")
        #expect(Array(header.prefix(5)) == ["section", "indicator", "name", "period", "value"])
        // The indicator report: groupings first, then value; a total row.
        let report = ReportTests.parseCSV(
            try await app.coordinator(
                "GET", "/v1/reports/indicators/esl_learners?by=neighborhood,dimension:age_group&format=csv"
            ).text)
        #expect(Array(report[0].prefix(4)) == ["section", "neighborhood", "dim.age_group", "value"])
        #expect(report.filter { $0.first == "total" }.count == 1)
        try await app.stop()
    }

    @Test func formulasAreNeutralisedAndNumbersKept() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let indicator = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "mood", "agenda": "literacy", "name": "+Mood score", "value_type": "score", "aggregation": "mean", "period_type": "month"}"#
        )
        #expect(indicator.status == 201, "\(indicator.text)")
        let neighborhood = try await app.coordinator(
            "POST", "/v1/neighborhoods", json: #"{"code": "eastside", "name": "+Eastside", "parent": "city"}"#)
        #expect(neighborhood.status == 201, "\(neighborhood.text)")
        let notes = [
            #"=HYPERLINK(\"http://evil.example\",\"click\")"#, "@SUM(A1)", "-1.5e3", "+cmd", "-5", "\\tTab", "plain",
        ]
        let rows = notes.enumerated().map { index, note in
            #"{"partner": "central-library", "indicator": "mood", "neighborhood": "eastside", "period": "2026-0\#(index + 1)", "value": \#(index == 0 ? "-5" : "-1.5e3"), "note": "\#(note)"}"#
        }
        let stored = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        #expect(stored.status == 200, "\(stored.text)")
        let export = ReportTests.parseCSV(try await app.coordinator("GET", "/v1/measurements?format=csv").text)
        let header = export[0]
        let note = try #require(header.firstIndex(of: "note")), value = try #require(header.firstIndex(of: "value"))
        #expect(
            export.dropFirst().map { $0[note] } == [
                #"'=HYPERLINK("http://evil.example","click")"#, "'@SUM(A1)", "-1.5e3", "'+cmd", "-5", "'\tTab", "plain",
            ])
        #expect(export[1][value] == "-5" && export[2][value] == "-1500")
        // The JSON keeps the text as written.
        let json = try await app.coordinator("GET", "/v1/measurements")
        #expect(
            (json.json["items"] as? [[String: Any]])?.first?["note"] as? String
                == #"=HYPERLINK("http://evil.example","click")"#)
        // A name a partner or the coordinator wrote, in a report.
        let scorecard = ReportTests.parseCSV(
            try await app.coordinator("GET", "/v1/reports/scorecard?agenda=literacy&format=csv").text)
        let name = try #require(scorecard[0].firstIndex(of: "name"))
        #expect(scorecard.contains { $0[name] == "'+Mood score" })
        try await app.stop()
    }
}
