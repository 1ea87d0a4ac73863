import BackboneAPI
import BackboneCore
import Foundation
import HTTPServer
import TestSupport
import Testing

/// A typo never changes what a request does: one table of query parameters per route,
/// checked at the router, and the contract listing the same ones.
@Suite("Query parameters")
struct QueryParameterTests {
    static func contract() throws -> OpenAPIOperations {
        let url = BackboneProcess.packageRoot.appendingPathComponent("openapi.yaml")
        return try OpenAPIOperations(String(contentsOf: url, encoding: .utf8))
    }

    /// `/v1/indicators/{code}` and `/v1/indicators/{key}` are the same route.
    static func shape(_ path: String) -> String {
        path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "{}", options: .regularExpression)
    }

    @Test func theContractReaderFindsEveryOperation() throws {
        let operations = try Self.contract().operations
        #expect(operations.count >= 40)
        let list = try #require(operations.first { $0.method == "GET" && $0.path == "/v1/measurements" })
        #expect(
            Set(list.query) == [
                "indicator", "partner", "neighborhood", "period", "from", "to", "batch_id", "limit", "cursor", "bom",
                "format",
            ])
        let agendas = try #require(operations.first { $0.method == "GET" && $0.path == "/v1/agendas" })
        #expect(Set(agendas.query) == ["limit", "cursor", "active"])
    }

    @Test func everyRouteIsAnOperationOfTheContractWithTheSameParameters() async throws {
        let app = try await TestApp.start()
        let routes = app.app.router().contracts
        let operations = try Self.contract().operations
        let routeKeys = Set(routes.map { "\($0.method.rawValue) \(Self.shape($0.pattern))" })
        let operationKeys = Set(operations.map { "\($0.method) \(Self.shape($0.path))" })
        #expect(routeKeys.subtracting(operationKeys).isEmpty, "routes the contract does not describe")
        #expect(operationKeys.subtracting(routeKeys).isEmpty, "operations no route serves")
        for route in routes {
            let operation = operations.first {
                $0.method == route.method.rawValue && Self.shape($0.path) == Self.shape(route.pattern)
            }
            #expect(
                Set(operation?.query ?? []) == Set(route.contract.acceptedParameters),
                "\(route.method) \(route.pattern)")
        }
        try await app.stop()
    }

    /// Walks every operation of openapi.yaml over a real socket.
    @Test func everyOperationRefusesAnUnknownParameterByName() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let operations = try Self.contract().operations
        var checked = 0
        for operation in operations {
            let path = operation.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
            let json: String? = ["POST", "PATCH", "PUT"].contains(operation.method) ? "{}" : nil
            let response = try await app.request(
                operation.method, path + "?no_such_parameter=1", key: app.coordinator, json: json)
            #expect(response.status == 400, "\(operation): \(response.status) \(response.text)")
            #expect(response.isProblem, "\(operation)")
            #expect(response.json["code"] as? String == "unknown-parameter", "\(operation): \(response.text)")
            #expect(response.json["parameter"] as? String == "no_such_parameter", "\(operation)")
            #expect(response.fieldErrors.map(\.field) == ["no_such_parameter"], "\(operation)")
            #expect(
                Set(response.json["accepted"] as? [String] ?? ["?"]) == Set(operation.query),
                "\(operation): \(response.text)")
            checked += 1
        }
        #expect(checked == operations.count && checked >= 40)
        try await app.stop()
    }

    @Test func aTypoIsRefusedWithTheClosestParameterAndNothingIsStored() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        for typo in ["dryrun", "dry-run"] {
            let response = try await app.request(
                "POST", "/v1/measurements?\(typo)=true", key: app.coordinator, json: row())
            #expect(response.status == 400 && response.isProblem)
            #expect(response.json["code"] as? String == "unknown-parameter")
            #expect(response.json["parameter"] as? String == typo)
            #expect(response.json["suggestion"] as? String == "dry_run")
            #expect((response.json["detail"] as? String)?.contains("Did you mean dry_run?") == true)
            #expect(Set(response.json["accepted"] as? [String] ?? []) == ["mode", "dry_run"])
        }
        #expect(try app.count("measurements") == 0)
        let stored = try await app.request("POST", "/v1/measurements?dry_run=true", key: app.coordinator, json: row())
        #expect(stored.status == 200 && stored.json["dry_run"] as? Bool == true)
        #expect(try app.count("measurements") == 0)

        let cases: [(path: String, parameter: String, suggestion: String?)] = [
            ("/v1/measurements?perod=2026-01", "perod", "period"),
            ("/v1/measurements?batchid=x", "batchid", "batch_id"),
            ("/v1/reports/scorecard?agenda=literacy&agneda=literacy", "agneda", "agenda"),
            ("/v1/reports/indicators/esl_learners?by=period&peroid_type=quarter", "peroid_type", "period_type"),
            ("/v1/agendas?actve=true", "actve", "active"),
            ("/v1/locks?period=2026-01", "period", nil),
            ("/v1/reports/equity?indicator=esl_learners&period=2026-01&colour=red", "colour", nil),
        ]
        for (path, parameter, suggestion) in cases {
            let response = try await app.coordinator("GET", path)
            #expect(response.status == 400, "\(path)")
            #expect(response.json["code"] as? String == "unknown-parameter", "\(path)")
            #expect(response.json["parameter"] as? String == parameter, "\(path)")
            #expect(response.json["suggestion"] as? String == suggestion, "\(path)")
        }
        try await app.stop()
    }

    @Test(arguments: [
        ("/v1/measurements?partner=", "partner"),
        ("/v1/measurements?indicator=esl_learners&neighborhood", "neighborhood"),
        ("/v1/reports/indicators/esl_learners?by=", "by"),
        ("/v1/reports/scorecard?agenda=", "agenda"),
        ("/v1/indicators?agenda=", "agenda"),
        ("/v1/keys?cursor=", "cursor"),
    ])
    func anEmptyValueIsRefused(path: String, parameter: String) async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let response = try await app.coordinator("GET", path)
        #expect(response.status == 400 && response.isProblem, "\(path)")
        #expect(response.json["code"] as? String == "empty-parameter", "\(path): \(response.text)")
        #expect(response.json["parameter"] as? String == parameter)
        #expect(response.fieldErrors.map(\.field) == [parameter])
        try await app.stop()
    }

    @Test func aRepeatedParameterIsRefused() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let response = try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?by=period&by=neighborhood")
        #expect(response.status == 400 && response.json["code"] as? String == "repeated-parameter")
        #expect(response.json["parameter"] as? String == "by")
        try await app.stop()
    }

    @Test func anUnsupportedFormatIsRefused() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        for path in [
            "/v1/measurements?format=xlsx", "/v1/reports/scorecard?agenda=literacy&format=xlsx",
            "/v1/reports/scorecard?agenda=literacy&format=CSV",
        ] {
            let response = try await app.coordinator("GET", path)
            #expect(response.status == 400, "\(path)")
            #expect(response.json["code"] as? String == "unsupported-format", "\(path)")
            #expect(response.json["parameter"] as? String == "format")
            #expect(response.json["accepted"] as? [String] == ["json", "csv"])
        }
        // A route with one representation takes no format at all.
        let registry = try await app.coordinator("GET", "/v1/agendas?format=json")
        #expect(registry.json["code"] as? String == "unknown-parameter")
        try await app.stop()
    }

    @Test func measurementsFilterByACoveringPeriodAndByBatch() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let first = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(period: "2026-01"), row(period: "2026-02"), row(period: "2026-04"),
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 1, "denominator": 2}"#,
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2025-Q4", "numerator": 1, "denominator": 2}"#,
            ]))
        let second = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-03")]))
        let firstBatch = try #require(first.json["batch_id"] as? String)
        let secondBatch = try #require(second.json["batch_id"] as? String)
        func periods(_ query: String) async throws -> [String] {
            let response = try await app.coordinator("GET", "/v1/measurements?\(query)")
            #expect(response.status == 200, "\(query): \(response.text)")
            return ((response.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["period"] as? String }.sorted()
        }
        #expect(try await periods("period=2026-Q1") == ["2026-01", "2026-02", "2026-03", "2026-Q1"])
        #expect(try await periods("period=2026-02") == ["2026-02"])
        #expect(try await periods("period=2026-Q2") == ["2026-04"])
        #expect(try await periods("period=2026") == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-Q1"])
        #expect(try await periods("period=2025") == ["2025-Q4"])
        #expect(try await periods("batch_id=\(secondBatch)") == ["2026-03"])
        #expect(try await periods("batch_id=\(firstBatch)&period=2026-Q1") == ["2026-01", "2026-02", "2026-Q1"])
        #expect(try await periods("batch_id=not-a-batch") == [])
        let csv = try await app.coordinator("GET", "/v1/measurements?period=2026-Q1&indicator=pass_rate&format=csv")
        #expect(csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        let malformed = try await app.coordinator("GET", "/v1/measurements?period=2026-13")
        #expect(malformed.status == 400 && malformed.json["code"] as? String == "malformed-period")
        try await app.stop()
    }
}
