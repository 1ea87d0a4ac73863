import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// Reads from a replica, read-your-writes marks and the read-only mode, over real sockets.
/// The "replica" here is a second pool on the test's own database (a server not in recovery
/// has every write) or a socket where nothing listens; `scripts/cluster.sh test` runs the
/// same against a streaming replica held 500 ms behind.
@Suite("Replica reads")
struct ReplicaReadTests {
    /// `backbone_database_reads_total{target=…}` on `/metrics`.
    static func reads(_ app: TestApp, _ target: String) async throws -> Int {
        let text = try await app.coordinator("GET", "/metrics").text
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("backbone_database_reads_total{target=\"\(target)\"}")
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Where nothing listens: a replica (or primary) that is down.
    static let nowhere = "host=/nonexistent-backbone-socket dbname=backbone user=postgres connect_timeout=2"

    @Test func readsGoToAReplicaThatHasTheWritesAndWritesLeaveTheirCallersMark() async throws {
        let conninfo = try TestDatabase.fresh()
        let app = try await TestApp.start(on: conninfo, replica: conninfo)
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let before = try await Self.reads(app, "replica")
        for _ in 0..<3 {
            #expect(try await app.coordinator("GET", "/v1/agendas").status == 200)
        }
        #expect(try await Self.reads(app, "replica") - before == 3)
        #expect(try await Self.reads(app, "primary") == 0)
        // The coordinator's writes (the registry seeded above) left its mark on the primary.
        let marked = try await app.pool.withConnection { connection in
            try connection.query("SELECT count(*) FROM write_marks w JOIN api_keys k ON k.id = w.key_id")[0]
                .decode(Int.self)
        }
        #expect(marked == 1)
        // A report streams its body from the replica too.
        let export = try await app.coordinator("GET", "/v1/measurements?format=csv")
        #expect(export.status == 200, "\(export.text)")
        #expect(try await Self.reads(app, "replica") - before == 4)
        // A dashboard page finds its caller on the head, as the API's routes do, and reads as they do.
        let page = try await app.coordinator("GET", "/dashboard?agenda=literacy")
        #expect(page.status == 200, "\(page.text)")
        #expect(try await Self.reads(app, "replica") - before == 5)
    }

    @Test func aReplicaThatCannotBeReachedSendsReadsToThePrimaryWithoutAnError() async throws {
        let app = try await TestApp.start(on: try TestDatabase.fresh(), replica: Self.nowhere)
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        for _ in 0..<3 {
            let agendas = try await app.coordinator("GET", "/v1/agendas")
            #expect(agendas.status == 200, "\(agendas.text)")
        }
        #expect(try await Self.reads(app, "primary") >= 3)
        #expect(try await Self.reads(app, "replica") == 0)
    }

    @Test func withThePrimaryAwayReadsAreServedAndWritesAreRefusedUntilItIsBack() async throws {
        let conninfo = try TestDatabase.fresh()
        let setup = try await TestApp.start(on: conninfo)
        try await setup.seedRegistry()
        let partner = try await setup.key(role: "partner", partner: "literacy-now")
        try await setup.stop()
        // A server whose primary is down and whose replica holds the data.
        let app = try await TestApp.start(on: conninfo, replica: conninfo, primary: Self.nowhere)
        defer { Task { try await app.stop() } }
        let ready = try await app.request("GET", "/readyz")
        #expect(ready.status == 200, "\(ready.text)")
        #expect(ready.json["status"] as? String == "degraded" && ready.json["mode"] as? String == "read-only")
        let agendas = try await app.request("GET", "/v1/agendas", key: partner)
        #expect(agendas.status == 200, "\(agendas.text)")
        #expect((agendas.json["items"] as? [Any])?.isEmpty == false)
        let write = try await app.request(
            "POST", "/v1/agendas", key: app.coordinator, json: #"{"id": "health", "name": "Health"}"#)
        #expect(write.status == 503, "\(write.text)")
        #expect(write.header("retry-after") == "5")
        #expect(write.json["code"] as? String == "database-unavailable")
    }
}
