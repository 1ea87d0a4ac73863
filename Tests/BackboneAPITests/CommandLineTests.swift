import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("The backbone command")
struct CommandLineTests {
    @Test func migrateTwiceIsANoOpTheSecondTime() async throws {
        let database = try TestDatabase.fresh()
        let first = try await BackboneProcess.run(["migrate"], environment: ["DATABASE_URL": database])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("migrated schema from version 0 to \(Schema.requiredVersion)"))
        let connection = try Connection(database)
        func recorded() throws -> [String] {
            try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version").map {
                "\(try $0.decode(Int.self, at: 0)) \(try $0.decode(Date.self, at: 1).timeIntervalSince1970)"
            }
        }
        let before = try recorded()
        #expect(before.last?.hasPrefix("\(Schema.requiredVersion) ") == true)

        let second = try await BackboneProcess.run(["migrate"], environment: ["DATABASE_URL": database])
        #expect(second.status == 0)
        #expect(second.stdout.contains("nothing to do"))
        #expect(try recorded() == before)
    }

    @Test func keysCreatePrintsASecretThatAuthenticates() async throws {
        let database = try TestDatabase.fresh()
        _ = try await BackboneProcess.run(["migrate"], environment: ["DATABASE_URL": database])
        let created = try await BackboneProcess.run(
            ["keys", "create", "--role", "coordinator", "--name", "backbone staff"], environment: ["DATABASE_URL": database])
        #expect(created.status == 0, "\(created.stderr)")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("bbk_") && secret.count > 30)

        let connection = try Connection(database)
        let key = try #require(try APIKeys.authenticate(connection, secret: secret))
        #expect(key.role == .coordinator)
        #expect(key.name == "backbone staff")
        #expect(try APIKeys.authenticate(connection, secret: secret + "x") == nil)
        // Only a hash is stored.
        let stored = try connection.query("SELECT count(*) FROM api_keys WHERE position(\(secret) IN encode(secret_hash, 'escape')) > 0")
        #expect(try stored[0].decode(Int.self, at: 0) == 0)
    }

    @Test func partnerKeyNeedsAPartner() async throws {
        let outcome = try await BackboneProcess.run(
            ["keys", "create", "--role", "partner"], environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("--role partner needs --partner"))
    }

    @Test func serveRefusesAnUnmigratedDatabase() async throws {
        let database = try TestDatabase.fresh()
        let outcome = try await BackboneProcess.run(
            ["serve", "--port", "0"], environment: ["DATABASE_URL": database])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("run `backbone migrate`"))
    }

    @Test func serveAnswersReadyzAndStopsOnSIGTERM() async throws {
        let database = try TestDatabase.fresh()
        _ = try await BackboneProcess.run(["migrate"], environment: ["DATABASE_URL": database])
        let server = try BackboneProcess.launch(["serve", "--port", "0"], environment: ["DATABASE_URL": database])
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(try await BackboneProcess.waitFor(port: port, path: "/readyz"))
        let ready = try await RawHTTPClient(port: port).request("GET", "/readyz")
        #expect(ready.json["status"] as? String == "ready")
        #expect(ready.json["schema_version"] as? Int == Schema.requiredVersion)
        let contract = try await RawHTTPClient(port: port).request("GET", "/openapi.yaml")
        #expect(contract.status == 200)
        #expect(contract.text.hasPrefix("openapi: 3.1"))

        #expect(try await server.terminate(signal: SIGTERM))
        #expect(server.process.terminationStatus == 0)
        #expect(server.outcome().stderr.contains("stopped"))
    }

    /// `swift build` and a copy is an install: schema.sql, the migrations and openapi.yaml
    /// are inside the binary, so a copy in an empty folder migrates and serves.
    @Test func aCopiedBinaryStandsAlone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bb-alone-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("backbone")
        try FileManager.default.copyItem(at: BackboneProcess.executable, to: copy)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["backbone"])

        let database = try TestDatabase.fresh()
        let environment = ["DATABASE_URL": database, "BACKBONE_HOME": "/nonexistent"]
        let migrated = try await BackboneProcess.run(["migrate"], environment: environment, executable: copy, directory: folder)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("migrated schema from version 0 to \(Schema.requiredVersion)"))

        let server = try BackboneProcess.launch(["serve", "--port", "0"], environment: environment, executable: copy, directory: folder)
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(try await BackboneProcess.waitFor(port: port, path: "/readyz"), "\(server.outcome().stderr)")
        let contract = try await RawHTTPClient(port: port).request("GET", "/openapi.yaml")
        #expect(contract.status == 200)
        let repository = try Data(contentsOf: BackboneProcess.packageRoot.appendingPathComponent("openapi.yaml"))
        let same = contract.body == repository
        #expect(same, "/openapi.yaml served by the copied binary differs from the repository's openapi.yaml")
        #expect(try await server.terminate(signal: SIGTERM))
        #expect(server.process.terminationStatus == 0)
    }

    @Test func serveWithoutDatabaseURLRunsAnEmbeddedPostgreSQL() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bbe-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try BackboneProcess.launch(["serve", "--port", "0"], environment: ["BACKBONE_DATA_DIR": folder.path])
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(try await BackboneProcess.waitFor(port: port, path: "/readyz", timeout: 90), "\(server.outcome().stderr)")
        // The cluster listens on a unix socket in its folder, not on TCP.
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".s.PGSQL.5432").path))
        let settings = try Connection("host=\(folder.path) dbname=backbone user=backbone")
            .query("SELECT current_setting('listen_addresses')")
        #expect(try settings[0].decode(String.self, at: 0) == "")

        #expect(try await server.terminate(signal: SIGTERM, timeout: 60))
        #expect(server.process.terminationStatus == 0)
        // Stopping the service stopped its cluster.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("postmaster.pid").path))
    }
}
