import BackboneCore
import Foundation
import TestSupport
import Testing

@testable import BackboneAPI

/// Input that used to be mangled or crash the server gets a precise refusal instead.
@Suite("Bad input gets a clear answer, nothing mangled", .serialized)
struct BadInputTests {
    static let header = "partner,indicator,neighborhood,period,value,dim.age_group,note\r\n"

    func csv(_ test: TestApp, _ text: String) async throws -> RawHTTPClient.Response {
        try await test.request(
            "POST", "/v1/measurements", key: test.coordinator, body: Data(text.utf8), contentType: "text/csv")
    }

    @Test func anUnterminatedQuoteIsA400NamingItsLineAndNothingIsStored() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        let rows = [
            "central-library,esl_learners,northside,2026-01,1,16-24,first",
            "central-library,esl_learners,northside,2026-02,2,16-24,\"spring cohort, part one",
            "central-library,esl_learners,northside,2026-03,3,16-24,third",
            "central-library,esl_learners,northside,2026-04,4,16-24,fourth",
        ]
        for mode in ["", "?mode=partial"] {
            let response = try await test.request(
                "POST", "/v1/measurements\(mode)", key: test.coordinator,
                body: Data((Self.header + rows.joined(separator: "\r\n") + "\r\n").utf8),
                contentType: "text/csv")
            #expect(response.status == 400, "\(response.text)")
            #expect(response.isProblem)
            #expect(response.json["code"] as? String == "unterminated-quote")
            #expect(response.json["line"] as? Int == 3)
            #expect(
                response.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["2:note:unterminated-quote"])
            #expect(
                (response.json["detail"] as? String)?.contains("Line 3, data row 2, note") == true, "\(response.text)")
        }
        #expect(try test.count("measurements") == 0)

        // A closing quote followed by text is refused too; quoted commas, escaped quotes and
        // line breaks inside quotes are fine.
        let afterQuote = try await csv(
            test, Self.header + "central-library,esl_learners,northside,2026-01,1,16-24,\"a\"b\r\n")
        #expect(afterQuote.status == 400)
        #expect(afterQuote.json["code"] as? String == "text-after-quote")
        let fine = try await csv(
            test, Self.header + "central-library,esl_learners,northside,2026-01,1,16-24,\"a, \"\"b\"\"\r\nc\"\r\n")
        #expect(fine.status == 200, "\(fine.text)")
        let note = try await test.coordinator("GET", "/v1/measurements").json["items"] as? [[String: Any]]
        #expect(note?.first?["note"] as? String == "a, \"b\"\r\nc")
        try await test.stop()
    }

    @Test func csvRowsObeyTheSameTextLimitsAsJSONRows() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        let longNote = String(repeating: "n", count: 2001)
        let json = try await test.coordinator(
            "POST", "/v1/measurements", json: batch([row(extra: #", "note": "\#(longNote)""#)]))
        #expect(json.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["0:note:too-long"])
        let huge = String(repeating: "x", count: 1_000_000)
        let rows = [
            "central-library,esl_learners,northside,2026-01,1,16-24,\(longNote)",
            "central-library,esl_learners,northside,2026-02,1,16-24,\(huge)",
            "\(String(repeating: "p", count: 65)),esl_learners,northside,2026-03,1,16-24,",
            "central-library,esl_learners,northside,2026-04,1,\(String(repeating: "a", count: 65)),",
            "central-library,esl_learners,northside,2026-05,0x1A,16-24,",
            "central-library,esl_learners,northside,2026-06,\(String(repeating: "1", count: 70)),16-24,",
        ]
        let response = try await csv(test, Self.header + rows.joined(separator: "\n"))
        #expect(response.status == 422)
        #expect(
            response.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == [
                "1:note:too-long", "2:note:too-long", "3:partner:too-long", "4:dimensions.age_group:too-long",
                "5:value:not-numeric", "6:value:too-long",
            ])
        #expect(response.body.count < 10_000, "the answer does not echo the field")
        #expect(try test.count("measurements") == 0)
        try await test.stop()
    }

    @Test func valuesHaveAFiniteRangeSoSumsNeverOverflow() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        let refused = try await test.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(period: "2026-01"),
                row(period: "2026-02", value: "1000000000000001"),
                row(period: "2026-03", value: "-2e15"),
            ]))
        #expect(refused.status == 422)
        #expect(
            refused.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == [
                "1:value:out-of-range", "2:value:out-of-range",
            ])
        // Beyond 2^53 a double no longer holds every whole number: the parser refuses such
        // a number itself (as the same 422), before 9007199254740993 could become …992.
        for huge in ["1.7e308", "9007199254740993", "-12345678901234567890"] {
            let beyond = try await test.coordinator(
                "POST", "/v1/measurements", json: batch([row(period: "2026-01"), row(period: "2026-02", value: huge)]))
            #expect(beyond.status == 422)
            #expect(beyond.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["1:value:out-of-range"])
            let message = (beyond.json["errors"] as? [[String: Any]])?.first?["message"] as? String
            #expect(message?.hasPrefix(huge) == true, "the number as it was written: \(message ?? "")")
        }
        let ratio = try await test.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 2e15, "denominator": 3e15}"#
            ]))
        #expect(
            ratio.fieldErrors.map { "\($0.field):\($0.code)" } == [
                "denominator:out-of-range", "numerator:out-of-range",
            ])
        let csvRefused = try await csv(
            test, Self.header + "central-library,esl_learners,northside,2026-01,1.7e308,16-24,\r\n")
        #expect(csvRefused.fieldErrors.map { "\($0.row ?? -1):\($0.field):\($0.code)" } == ["1:value:out-of-range"])
        let registry = try await test.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "huge", "agenda": "literacy", "name": "n", "value_type": "amount", "aggregation": "sum", "period_type": "month", "target": {"period": "2027-01", "value": 1.7e308}}"#
        )
        #expect(registry.status == 422)
        #expect(registry.fieldErrors.map(\.code) == ["out-of-range"])

        // The largest values, three in one cell, add up to a finite total in JSON and CSV.
        let indicator = try await test.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "raised", "agenda": "literacy", "name": "Funds raised", "value_type": "amount", "aggregation": "sum", "period_type": "month"}"#
        )
        #expect(indicator.status == 201)
        let largest = try await test.coordinator(
            "POST", "/v1/measurements",
            json: batch(
                ["central-library", "literacy-now", "central-library"].enumerated().map { index, partner in
                    #"{"partner": "\#(partner)", "indicator": "raised", "neighborhood": "\#(index == 2 ? "southside" : "northside")", "period": "2026-01", "value": 1e15}"#
                }))
        #expect(largest.status == 200, "\(largest.text)")
        let report = try await test.coordinator("GET", "/v1/reports/indicators/raised?by=neighborhood&period=2026-01")
        let total = try #require(report.json["total"] as? [String: Any])
        #expect((total["value"] as? NSNumber)?.doubleValue == 3e15)
        #expect(total["suppressed"] as? Bool == false)
        let csvReport = try await test.coordinator(
            "GET", "/v1/reports/indicators/raised?by=neighborhood&period=2026-01&format=csv")
        #expect(csvReport.status == 200)
        #expect(!csvReport.text.lowercased().contains("inf") && !csvReport.text.contains("nan"))
        try await test.stop()
    }

    @Test func theLastPeriodsOf9999CannotBeLockedAndSayWhy() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        for period in ["9999", "9999-Q4", "9999-12", "9999-W52"] {
            let response = try await test.coordinator(
                "POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "\#(period)"}"#)
            #expect(response.status == 422, "\(period): \(response.text)")
            #expect(
                response.fieldErrors.map { "\($0.field):\($0.code)" } == ["period:period-out-of-range"], "\(period)")
        }
        let last = try await test.coordinator(
            "POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "9999-Q3"}"#)
        #expect(last.status == 201, "\(last.text)")
        #expect(last.json["ends_before"] as? String == "9999-10-01")
        #expect(try await test.coordinator("GET", "/v1/locks").status == 200)
        try await test.stop()
    }

    @Test func aSubmissionHoldsAtMost100000Rows() async throws {
        let test = try await TestApp.start()
        let limit = SubmissionParser.maxRows
        let json = "[" + Array(repeating: "{}", count: limit + 1).joined(separator: ",") + "]"
        let tooMany = try await test.request(
            "POST", "/v1/measurements", key: test.coordinator, body: Data(json.utf8), contentType: "application/json")
        #expect(tooMany.status == 413, "\(tooMany.text.prefix(300))")
        #expect(tooMany.json["code"] as? String == "too-many-rows")
        let csvTooMany = try await csv(test, "note\n" + String(repeating: "a\n", count: limit + 1))
        #expect(csvTooMany.status == 413)
        #expect(csvTooMany.json["code"] as? String == "too-many-rows")
        try await test.stop()
    }
}
