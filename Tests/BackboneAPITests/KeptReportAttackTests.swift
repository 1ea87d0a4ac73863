import Foundation
import NIOConcurrencyHelpers
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// Kept reports checked against a second server on the same database that keeps none:
/// whatever the first gives (kept or computed) must be what computing it gives, for every
/// caller's view, representation and report, after every kind of write.
@Suite("Kept reports against a server that computes every one")
struct KeptReportAttackTests {
    static let reports = [
        "/v1/reports/indicators/esl_learners?by=partner&period=2026-01",
        "/v1/reports/indicators/esl_learners?by=neighborhood,period",
        "/v1/reports/scorecard?agenda=literacy",
        "/v1/reports/completeness?agenda=literacy&period=2026-01",
        "/v1/reports/equity?indicator=esl_learners&period=2026-01",
    ]

    struct Servers {
        let kept: TestApp
        let computed: TestApp
        /// Coordinator, both partners, a viewer.
        let keys: [String]

        /// Each report, as each key, in each representation: asked twice of the keeping
        /// server (the second may be given as kept) and once of the computing one.
        func expectSame(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            for path in KeptReportAttackTests.reports {
                for key in keys {
                    for (suffix, accept) in [("", nil), ("&format=csv", nil), ("", "text/csv")] as [(String, String?)] {
                        let headers = accept.map { ["Accept": $0] } ?? [:]
                        let truth = try await computed.request("GET", path + suffix, key: key, headers: headers)
                        for _ in 0..<2 {
                            let given = try await kept.request("GET", path + suffix, key: key, headers: headers)
                            #expect(
                                given.status == truth.status, "\(label): \(path)\(suffix)",
                                sourceLocation: sourceLocation)
                            guard truth.status == 200 else { continue }
                            #expect(
                                given.body == truth.body,
                                "\(label): \(path)\(suffix) accept \(accept ?? "-")\n\(given.text)\n---\n\(truth.text)",
                                sourceLocation: sourceLocation)
                            #expect(
                                given.header("content-type") == truth.header("content-type"),
                                sourceLocation: sourceLocation)
                            #expect(given.header("vary") == truth.header("vary"), sourceLocation: sourceLocation)
                        }
                    }
                }
            }
        }
    }

    static func start() async throws -> Servers {
        let kept = try await ReportTests.start()
        try await kept.waitUntilListening()
        let computed = try await TestApp.start(on: kept.conninfo, migrate: false)
        computed.app.stop()  // never listening: keeps nothing, computes every report
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!computed.app.changes.isListening)
        let keys = [
            kept.coordinator, try await kept.key(role: "partner", partner: "central-library"),
            try await kept.key(role: "partner", partner: "literacy-now"), try await kept.key(role: "viewer"),
        ]
        _ = try await kept.coordinator(
            "POST", "/v1/commitments", json: #"{"partner": "literacy-now", "indicator": "esl_learners"}"#)
        return Servers(kept: kept, computed: computed, keys: keys)
    }

    @Test func everyViewAndRepresentationIsWhatComputingGives() async throws {
        let servers = try await Self.start()
        try await servers.kept.askUntilKept(Self.reports[0])
        try await servers.expectSame("at start")
        #expect(try await servers.kept.reportsGiven(source: "kept") >= 1)
        try await servers.kept.stop()
        try await servers.computed.stop()
    }

    @Test func everyWriteIsInTheNextReport() async throws {
        let servers = try await Self.start()
        let (kept, computed) = (servers.kept, servers.computed)
        try await servers.expectSame("at start")
        // A correction, a retraction, a lock.
        let correction = try await kept.coordinator(
            "POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "25")]))
        #expect(correction.status == 200, "\(correction.text)")
        try await servers.expectSame("after a correction")
        let id = try Connection(kept.conninfo).query("SELECT id FROM measurements WHERE partner_id = 'p4'")[0].decode(
            Int.self, at: 0)
        #expect(try await kept.coordinator("DELETE", "/v1/measurements/\(id)").status < 300)
        try await servers.expectSame("after a retraction")
        #expect(
            try await kept.coordinator("POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "2025-Q1"}"#)
                .status == 201)
        try await servers.expectSame("after a lock")
        // Registry writes through this server, through the other, and straight in SQL.
        #expect(
            try await kept.coordinator("PATCH", "/v1/neighborhoods/northside", json: #"{"population": 24000}"#).status
                == 200)
        try await servers.expectSame("after a population change")
        #expect(
            try await computed.coordinator(
                "PATCH", "/v1/indicators/esl_learners", json: #"{"name": "Adults learning English"}"#
            ).status == 200)
        try await servers.expectSame("after a rename by another server")
        try Connection(kept.conninfo).execute("UPDATE neighborhoods SET population = 6000 WHERE code = 'southside'")
        try await servers.expectSame("after a population change in SQL")
        #expect(
            try await kept.coordinator(
                "POST", "/v1/commitments", json: #"{"partner": "p3", "indicator": "esl_learners"}"#
            ).status == 201)
        try await servers.expectSame("after a commitment")
        #expect(
            try await kept.coordinator("PATCH", "/v1/indicators/volunteers", json: #"{"active": false}"#).status == 200)
        try await servers.expectSame("after an indicator left the agenda")
        #expect(
            try await kept.coordinator("POST", "/v1/partners", json: #"{"id": "p5", "name": "p5", "kind": "school"}"#)
                .status == 201)
        _ = try await kept.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                #"{"partner": "p5", "indicator": "esl_learners", "neighborhood": "northside", "period": "2026-01", "value": 5, "dimensions": {"age_group": "45+"}}"#
            ]))
        try await servers.expectSame("after a partner and its measurement")
        try await kept.stop()
        try await computed.stop()
    }
    /// Reports asked all the while writes commit: once a write has returned, the next
    /// report has it, whatever was computed (and kept) while it committed.
    @Test func aReportComputedWhileAWriteCommitsIsNeverGivenAfterIt() async throws {
        let servers = try await Self.start()
        let (kept, coordinator) = (servers.kept, servers.kept.coordinator)
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-03"
        let stop = ManagedAtomicFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    while !stop.isSet { _ = try await kept.request("GET", path, key: coordinator) }
                }
            }
            for value in 1...20 {
                let written = try await kept.coordinator(
                    "POST", "/v1/measurements", json: batch([row(period: "2026-03", value: "\(value)")]))
                #expect(written.status == 200)
                let total =
                    (try await kept.coordinator("GET", path).json["total"] as? [String: Any])?["value"] as? NSNumber
                #expect(total?.intValue == value, "after writing \(value)")
            }
            stop.set()
            try await group.waitForAll()
        }
        try await kept.stop()
        try await servers.computed.stop()
    }

    /// A registry change made through another server process is in this server's next report.
    @Test func aRegistryChangeByAnotherServerIsInTheNextReport() async throws {
        let servers = try await Self.start()
        let (kept, computed) = (servers.kept, servers.computed)
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-01"
        for round in 1...20 {
            _ = try await kept.coordinator("GET", path)
            _ = try await kept.coordinator("GET", path)
            #expect(
                try await computed.coordinator(
                    "PATCH", "/v1/indicators/esl_learners", json: #"{"name": "Name \#(round)"}"#
                ).status == 200)
            #expect(try await kept.coordinator("GET", path).json["name"] as? String == "Name \(round)")
        }
        try await kept.stop()
        try await computed.stop()
    }
}

extension KeptReportAttackTests {
    /// A partner key revoked through another server process gets no report from this one,
    /// kept or computed, however soon it asks.
    @Test func aKeyRevokedByAnotherServerGetsNoReport() async throws {
        let servers = try await Self.start()
        let (kept, computed) = (servers.kept, servers.computed)
        let path = "/v1/reports/indicators/esl_learners?by=partner&period=2026-01"
        for _ in 1...15 {
            let created = try await kept.coordinator(
                "POST", "/v1/keys", json: #"{"role": "partner", "partner": "central-library"}"#)
            let (id, secret) = (created.json["id"] as? String ?? "", created.json["secret"] as? String ?? "")
            #expect(try await kept.request("GET", path, key: secret).status == 200)
            #expect(try await kept.request("GET", path, key: secret).status == 200)
            #expect(try await computed.coordinator("DELETE", "/v1/keys/\(id)").status < 300)
            #expect(try await kept.request("GET", path, key: secret).status == 401)
        }
        try await kept.stop()
        try await computed.stop()
    }
}

/// A flag set once, read from many tasks.
final class ManagedAtomicFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    var isSet: Bool { value.withLockedValue { $0 } }
    func set() { value.withLockedValue { $0 = true } }
}
