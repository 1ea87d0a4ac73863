import Foundation
import TestSupport
import Testing

/// One test per class of bad input: the status, the problem's row, field and code,
/// and that nothing at all was stored.
@Suite("Bad measurement input is refused precisely")
struct MeasurementValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var body: String
        var contentType = "application/json"
        var row: Int
        var field: String
        var code: String
        var status = 422
        var testDescription: String { name }
    }

    static let good = row(period: "2026-01")
    static let csvHeader = "partner,indicator,neighborhood,period,value,dim.age_group\r\n"

    static let cases: [Case] = [
        Case(
            name: "unknown indicator", body: batch([good, row(indicator: "esl_lerners")]), row: 1, field: "indicator",
            code: "unknown-indicator"),
        Case(
            name: "inactive indicator", body: batch([good, row(indicator: "retired", dimensions: "{}")]), row: 1,
            field: "indicator", code: "inactive-indicator"),
        Case(
            name: "unknown neighborhood", body: batch([good, row(neighborhood: "atlantis")]), row: 1,
            field: "neighborhood", code: "unknown-neighborhood"),
        Case(
            name: "malformed period", body: batch([good, row(period: "2026-13")]), row: 1, field: "period",
            code: "malformed-period"),
        Case(
            name: "period of the wrong type", body: batch([good, row(period: "2026-Q1")]), row: 1, field: "period",
            code: "period-type-mismatch"),
        Case(
            name: "period in the future", body: batch([good, row(period: "2099-01")]), row: 1, field: "period",
            code: "future-period"),
        Case(
            name: "non-numeric value (JSON)", body: batch([good, row(value: #""twelve""#)]), row: 1, field: "value",
            code: "wrong-type"),
        Case(
            name: "non-numeric value (CSV)",
            body: csvHeader
                + "central-library,esl_learners,northside,2026-02,12,25-44\r\ncentral-library,esl_learners,northside,2026-03,twelve,25-44\r\n",
            contentType: "text/csv", row: 2, field: "value", code: "not-numeric"),
        Case(
            name: "NaN value", body: csvHeader + "central-library,esl_learners,northside,2026-03,NaN,25-44\r\n",
            contentType: "text/csv", row: 1, field: "value", code: "not-finite"),
        Case(
            name: "infinite value", body: csvHeader + "central-library,esl_learners,northside,2026-03,inf,25-44\r\n",
            contentType: "text/csv", row: 1, field: "value", code: "not-finite"),
        Case(
            name: "fractional count", body: batch([good, row(value: "12.5")]), row: 1, field: "value",
            code: "not-integer"),
        Case(
            name: "value above the indicator's range", body: batch([good, row(value: "5001")]), row: 1, field: "value",
            code: "out-of-range"),
        Case(
            name: "negative count", body: batch([good, row(value: "-3")]), row: 1, field: "value", code: "out-of-range"),
        Case(
            name: "ratio without a positive denominator",
            body: batch([
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 3, "denominator": 0}"#
            ]),
            row: 0, field: "denominator", code: "non-positive-denominator"),
        Case(
            name: "percentage numerator above its denominator",
            body: batch([
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 30, "denominator": 20}"#
            ]),
            row: 0, field: "numerator", code: "numerator-exceeds-denominator"),
        Case(
            name: "ratio row with a value instead",
            body: batch([
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "value": 55}"#
            ]),
            row: 0, field: "value", code: "value-not-allowed"),
        Case(
            name: "missing dimension", body: batch([good, row(dimensions: "{}")]), row: 1,
            field: "dimensions.age_group", code: "missing-dimension"),
        Case(
            name: "extra dimension", body: batch([good, row(dimensions: #"{"age_group": "25-44", "gender": "f"}"#)]),
            row: 1, field: "dimensions.gender", code: "unknown-dimension"),
        Case(
            name: "disallowed dimension value", body: batch([good, row(dimensions: #"{"age_group": "90-99"}"#)]),
            row: 1, field: "dimensions.age_group", code: "disallowed-dimension-value"),
        Case(
            name: "the same key twice in one batch", body: batch([good, row(period: "2026-01", value: "13")]), row: 1,
            field: "row", code: "duplicate-row"),
        Case(
            name: "misspelled field", body: batch([good, row(extra: #", "vaule": 3"#)]), row: 1, field: "vaule",
            code: "unknown-field"),
        Case(
            name: "missing value",
            body: batch([
                good,
                #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside", "period": "2026-02", "dimensions": {"age_group": "45+"}}"#,
            ]), row: 1, field: "value", code: "required"),
        Case(
            name: "unknown partner",
            body: batch([good, row().replacingOccurrences(of: "central-library", with: "ghost-org")]), row: 1,
            field: "partner", code: "unknown-partner"),
    ]

    @Test(arguments: cases)
    func refusedWithRowFieldAndCode(_ testCase: Case) async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let response = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(testCase.body.utf8),
            contentType: testCase.contentType)
        #expect(response.status == testCase.status, "\(response.text)")
        #expect(response.isProblem)
        #expect(
            response.fieldErrors.contains {
                $0.row == testCase.row && $0.field == testCase.field && $0.code == testCase.code
            },
            "\(response.fieldErrors)")
        #expect(try app.count("measurements") == 0)
        #expect(try app.count("measurement_history") == 0)
        try await app.stop()
    }

    @Test func lockedPeriodIsA409ForPartnersAndStoresNothing() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let lock = try await app.coordinator(
            "POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "2026-Q1", "reason": "annual report"}"#)
        #expect(lock.status == 201)
        let partner = try await app.key(role: "partner", partner: "central-library")
        let response = try await app.request(
            "POST", "/v1/measurements", key: partner, json: batch([row(period: "2026-02")]))
        #expect(response.status == 409)
        #expect(response.json["code"] as? String == "period-locked")
        #expect(response.fieldErrors.first.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == "0:period:period-locked")
        #expect(try app.count("measurements") == 0)
        // Outside the locked quarter the same partner may write.
        #expect(
            try await app.request("POST", "/v1/measurements", key: partner, json: row(period: "2026-04")).status == 200)
        try await app.stop()
    }

    @Test func everyProblemOfEveryRowIsReportedAtOnce() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let body = batch([
            row(period: "2026-01"), row(indicator: "nope", neighborhood: "atlantis"),
            row(period: "2026-02", value: "1.5", dimensions: "{}"),
        ])
        let response = try await app.coordinator("POST", "/v1/measurements", json: body)
        #expect(response.status == 422)
        let found = Set(response.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" })
        #expect(
            found == [
                "1:indicator:unknown-indicator", "1:neighborhood:unknown-neighborhood", "2:value:not-integer",
                "2:dimensions.age_group:missing-dimension",
            ])
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }

    @Test func malformedBodiesAre400Or415() async throws {
        let app = try await TestApp.start()
        let garbage = try await app.request("POST", "/v1/measurements", key: app.coordinator, json: "{not json")
        #expect(garbage.status == 400 && garbage.json["code"] as? String == "malformed-json")
        let xml = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data("<m/>".utf8), contentType: "application/xml")
        #expect(xml.status == 415 && xml.isProblem)
        let headerless = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data("colour,size\r\n1,2\r\n".utf8),
            contentType: "text/csv")
        #expect(headerless.status == 422)
        #expect(Set(headerless.fieldErrors.map(\.code)) == ["unknown-column"])
        try await app.stop()
    }

    /// What the JSON parser refuses, on the wire: each a problem naming the row and field,
    /// and nothing stored.
    @Test func bodiesAreReadStrictly() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let good = row(period: "2026-01")
        // A note in Latin-1 (0xE9 for é) is not UTF-8: refused, not stored as U+FFFD.
        var latin1 = Data(batch([good, row(period: "2026-02", extra: #", "note": "caf""#)]).utf8)
        latin1.insert(0xE9, at: latin1.range(of: Data("caf\"".utf8))!.lowerBound + 3)
        let notUTF8 = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: latin1, contentType: "application/json")
        #expect(notUTF8.status == 400 && notUTF8.isProblem)
        #expect(notUTF8.json["code"] as? String == "invalid-utf8")
        #expect(notUTF8.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["1:note:invalid-utf8"])

        let twice = batch([
            good,
            #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside", "period": "2026-02", "value": 1, "dimensions": {"age_group": "16-24", "age_group": "25-44"}}"#,
        ])
        let duplicate = try await app.coordinator("POST", "/v1/measurements", json: twice)
        #expect(duplicate.status == 400)
        #expect(duplicate.json["code"] as? String == "duplicate-key")
        #expect(
            duplicate.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == [
                "1:dimensions.age_group:duplicate-key"
            ])
        let bare = try await app.coordinator(
            "POST", "/v1/measurements", json: "[\(good), {\"value\": 1, \"value\": 2}]")
        #expect(bare.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["1:value:duplicate-key"])

        // Registry bodies are read by the same parser.
        let agenda = try await app.coordinator(
            "POST", "/v1/agendas", json: #"{"id": "twice", "name": "a", "name": "b"}"#)
        #expect(agenda.status == 400 && agenda.json["code"] as? String == "duplicate-key")
        #expect(agenda.fieldErrors.map { "\($0.field):\($0.code)" } == ["name:duplicate-key"])
        let deep = try await app.coordinator("POST", "/v1/agendas", json: String(repeating: "[", count: 100_000))
        #expect(deep.status == 400 && deep.json["code"] as? String == "malformed-json")
        #expect(try app.count("measurements") == 0)
        #expect(try app.count("agendas", where: "id = 'twice'") == 0)
        try await app.stop()
    }

    /// Swift compares text by canonical equivalence, PostgreSQL by bytes: a dimension
    /// value spelled another way ("K-5" with a Kelvin sign, "café" with a combining
    /// accent) passed the allowed-values check, was stored as sent, and became a second
    /// measurement of the same series that the report then added to the first. The
    /// registry's spelling is stored, so sending it again corrects the one measurement.
    @Test func aDimensionValueIsStoredInTheRegistrysSpelling() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let indicator = try await app.coordinator(
            "POST", "/v1/indicators",
            json: #"""
                {"code": "grades", "agenda": "literacy", "name": "g", "value_type": "count", "aggregation": "sum", "period_type": "month",
                 "dimensions": [{"name": "grade", "values": ["K-5", "caf\u00e9"]}]}
                """#)
        #expect(indicator.status == 201, "\(indicator.text)")
        for value in [#"K-5"#, #"\u212A-5"#, #"caf\u00e9"#, #"cafe\u0301"#] {
            let sent = try await app.coordinator(
                "POST", "/v1/measurements",
                json: row(indicator: "grades", period: "2026-01", value: "1", dimensions: #"{"grade": "\#(value)"}"#))
            #expect(sent.status == 200, "\(value): \(sent.text)")
        }
        #expect(try app.count("measurements") == 2)
        #expect(try app.count("measurements", where: #"dimension_key IN ('{"grade":"K-5"}', '{"grade":"café"}')"#) == 2)
        let report = try await app.coordinator("GET", "/v1/reports/indicators/grades?by=dimension:grade")
        let values = (report.json["rows"] as? [[String: Any]] ?? []).map { ($0["value"] as? NSNumber)?.doubleValue }
        #expect(values == [1, 1], "\(report.text)")
        try await app.stop()
    }

    /// Hostile bodies, JSON and CSV: each is a 4xx problem with its code (never a 500,
    /// never stored), and the same bad value is refused by both formats.
    @Test func hostileBodiesAreClearRefusals() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let good = row(period: "2026-01")
        func with(_ bytes: [UInt8]) -> Data {
            Data(batch([row(extra: #", "note": "a\#u{FFFF}b""#)]).utf8).replacing(
                Data("\u{FFFF}".utf8), with: Data(bytes))
        }
        let bodies: [(String, Data, Int, String)] = [
            ("empty body", Data(), 400, "malformed-json"),
            ("a BOM", Data([0xEF, 0xBB, 0xBF]) + Data(batch([good]).utf8), 400, "malformed-json"),
            ("trailing text", Data((batch([good]) + " x").utf8), 400, "malformed-json"),
            ("two documents", Data((batch([good]) + batch([good])).utf8), 400, "malformed-json"),
            ("a lone surrogate", Data(batch([row(extra: #", "note": "\ud800""#)]).utf8), 400, "malformed-json"),
            ("a lone low surrogate", Data(batch([row(extra: #", "note": "\udc00x""#)]).utf8), 400, "malformed-json"),
            ("an overlong slash", with([0xC0, 0xAF]), 400, "invalid-utf8"),
            ("an encoded surrogate", with([0xED, 0xA0, 0x80]), 400, "invalid-utf8"),
            ("a raw control character", with([0x01]), 400, "malformed-json"),
            ("a name escaped", Data(batch([row(extra: #", "\u0076alue": 3"#)]).utf8), 400, "duplicate-key"),
            ("a NUL in a name", Data(batch([row(extra: #", "note\u0000": "x""#)]).utf8), 422, "unknown-field"),
            ("1E400", Data(batch([row(value: "1E400")]).utf8), 422, "out-of-range"),
            ("0.1e-400", Data(batch([row(value: "0.1e-400")]).utf8), 422, "out-of-range"),
            (
                "10,000 digits", Data(batch([row(value: "1" + String(repeating: "0", count: 10_000))]).utf8), 422,
                "out-of-range"
            ),
            ("2^53+1", Data(batch([row(value: "9007199254740993")]).utf8), 422, "out-of-range"),
            (
                "a huge string",
                Data(batch([row(extra: #", "note": "\#(String(repeating: "x", count: 4_000_000))""#)]).utf8), 422,
                "too-long"
            ),
        ]
        var mismatches: [String] = []
        for (name, body, status, code) in bodies {
            let response = try await app.request(
                "POST", "/v1/measurements", key: app.coordinator, body: body, contentType: "application/json")
            let codes = [response.json["code"] as? String] + response.fieldErrors.map(\.code)
            if response.status != status || !response.isProblem || !codes.contains(code) {
                mismatches.append("\(name): \(response.status) \(response.text.prefix(300))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // A NUL inside a value is text PostgreSQL cannot store: a 422, not a 500.
        let nul = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(extra: #", "note": "a\u0000b""#)]))
        #expect(nul.status == 422 && nul.isProblem, "\(nul.text)")
        // The same bad values in CSV are refused too.
        let header = "partner,indicator,neighborhood,period,value,dim.age_group\r\n"
        for value in ["9007199254740993", "1E400", "0.1e-400", "1" + String(repeating: "0", count: 10_000)] {
            let csv = try await app.request(
                "POST", "/v1/measurements", key: app.coordinator,
                body: Data((header + "central-library,esl_learners,northside,2026-01,\(value),25-44\r\n").utf8),
                contentType: "text/csv")
            #expect(
                (400..<500).contains(csv.status) && csv.isProblem,
                "CSV \(value.prefix(20)): \(csv.status) \(csv.text.prefix(300))")
        }
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }
}

@Suite("Null values in measurement rows")
struct NullValueTests {
    @Test func nullValueIsRequiredNotAServerError() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        for dryRun in [false, true] {
            let response = try await app.coordinator(
                "POST", "/v1/measurements?dry_run=\(dryRun)", json: row(value: "null"))
            #expect(response.status == 422)
            #expect(response.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["0:value:required"])
        }
        let ratio =
            #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": null, "denominator": 5}"#
        let refused = try await app.coordinator("POST", "/v1/measurements", json: ratio)
        #expect(refused.fieldErrors.map { "\($0.field):\($0.code)" } == ["numerator:required"])
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }
}
