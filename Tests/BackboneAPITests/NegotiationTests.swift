import Foundation
import TestSupport
import Testing

/// `Accept` as RFC 9110 says, `?format=` over it, 406 when nothing offered is acceptable.
@Suite("Content negotiation over HTTP")
struct NegotiationTests {
    @Test func reportsAndTheMeasurementListHonourAccept() async throws {
        let app = try await ReportTests.start()
        let cases: [(accept: String, type: String)] = [
            ("application/json, text/csv", "application/json"),
            ("application/json;q=1.0, text/csv;q=0.1", "application/json"),
            ("text/csv, application/json", "application/json"),
            ("text/csv", "text/csv"),
            ("text/csv;q=1, application/json;q=0.5", "text/csv"),
            ("text/*", "text/csv"),
            ("*/*", "application/json"),
            ("text/csv;q=0, */*", "application/json"),
        ]
        for path in [
            "/v1/reports/scorecard?agenda=literacy", "/v1/reports/indicators/esl_learners?by=neighborhood",
            "/v1/measurements",
        ] {
            for (accept, type) in cases {
                let response = try await app.request("GET", path, key: app.coordinator, headers: ["Accept": accept])
                #expect(response.status == 200, "\(path) Accept: \(accept)")
                #expect(
                    response.header("content-type")?.hasPrefix(type) == true,
                    "\(path) Accept: \(accept) → \(response.header("content-type") ?? "")")
                #expect(response.header("vary")?.lowercased().contains("accept") == true)
            }
            for accept in ["text/csv;q=0", "text/html", "application/xml;q=1, application/json;q=0"] {
                let response = try await app.request("GET", path, key: app.coordinator, headers: ["Accept": accept])
                #expect(response.status == 406, "\(path) Accept: \(accept)")
                #expect(response.isProblem)
                #expect(response.json["code"] as? String == "not-acceptable")
                #expect(response.json["available"] as? [String] == ["application/json", "text/csv"])
            }
            // ?format= overrides Accept.
            let csv = try await app.request(
                "GET", path + (path.contains("?") ? "&" : "?") + "format=csv", key: app.coordinator,
                headers: ["Accept": "application/json"])
            #expect(csv.header("content-type")?.hasPrefix("text/csv") == true)
            let json = try await app.request(
                "GET", path + (path.contains("?") ? "&" : "?") + "format=json", key: app.coordinator,
                headers: ["Accept": "text/csv"])
            #expect(json.header("content-type")?.hasPrefix("application/json") == true)
        }
        try await app.stop()
    }

    @Test func jsonOnlyRoutesRefuseWhatTheyCannotSend() async throws {
        let app = try await TestApp.start()
        let refused = try await app.request("GET", "/v1/agendas", key: app.coordinator, headers: ["Accept": "text/csv"])
        #expect(refused.status == 406 && refused.json["available"] as? [String] == ["application/json"])
        let allowed = try await app.request(
            "GET", "/v1/agendas", key: app.coordinator, headers: ["Accept": "text/html, */*;q=0.8"])
        #expect(allowed.status == 200)
        let contract = try await app.request("GET", "/openapi.yaml", headers: ["Accept": "application/yaml"])
        #expect(contract.status == 200)
        try await app.stop()
    }
}
