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
            ["keys", "create", "--role", "coordinator", "--name", "backbone staff"],
            environment: ["DATABASE_URL": database])
        #expect(created.status == 0, "\(created.stderr)")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("bbk_") && secret.count > 30)

        let connection = try Connection(database)
        let key = try #require(try APIKeys.authenticate(connection, secret: secret))
        #expect(key.role == .coordinator)
        #expect(key.name == "backbone staff")
        #expect(try APIKeys.authenticate(connection, secret: secret + "x") == nil)
        // Only a hash is stored.
        let stored = try connection.query(
            "SELECT count(*) FROM api_keys WHERE position(\(secret) IN encode(secret_hash, 'escape')) > 0")
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
        #expect(outcome.stderr.contains("(database: DATABASE_URL ("), "\(outcome.stderr)")
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
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bb-alone-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("backbone")
        try FileManager.default.copyItem(at: BackboneProcess.executable, to: copy)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["backbone"])

        let database = try TestDatabase.fresh()
        let environment = ["DATABASE_URL": database, "BACKBONE_HOME": "/nonexistent"]
        let migrated = try await BackboneProcess.run(
            ["migrate"], environment: environment, executable: copy, directory: folder)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("migrated schema from version 0 to \(Schema.requiredVersion)"))

        let server = try BackboneProcess.launch(
            ["serve", "--port", "0"], environment: environment, executable: copy, directory: folder)
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
        let server = try BackboneProcess.launch(
            ["serve", "--port", "0"], environment: ["BACKBONE_DATA_DIR": folder.path])
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(
            try await BackboneProcess.waitFor(port: port, path: "/readyz", timeout: 90), "\(server.outcome().stderr)")
        // The cluster listens on a unix socket in its folder, not on TCP.
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".s.PGSQL.5432").path))
        let settings = try Connection("host=\(folder.path) dbname=backbone user=backbone")
            .query("SELECT current_setting('listen_addresses')")
        #expect(try settings[0].decode(String.self, at: 0) == "")

        // The first start printed a coordinator key, once, with a command to try it.
        let printed = server.outcome().stdout
        let secret = try #require(
            printed.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("bbk_") }.map(String.init), "\(printed)")
        #expect(printed.contains("curl -H \"Authorization: Bearer \(secret)\" http://127.0.0.1:\(port)/v1/agendas"))
        let agendas = try await RawHTTPClient(port: port).request(
            "GET", "/v1/agendas", headers: ["Authorization": "Bearer \(secret)"])
        #expect(agendas.status == 200)

        // `keys` finds the running service's database by its data folder and says which it used.
        let environment = ["BACKBONE_DATA_DIR": folder.path]
        let listed = try await BackboneProcess.run(["keys", "list"], environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stderr.contains("database: the embedded PostgreSQL in \(folder.path)"))
        #expect(listed.stdout.contains("first coordinator key"))
        #expect(!listed.stdout.contains(secret))
        let nobody = try await BackboneProcess.run(
            ["keys", "create", "--role", "partner", "--partner", "nobody"], environment: environment)
        #expect(nobody.status != 0)
        #expect(nobody.stderr.contains("no partner nobody"), "\(nobody.stderr)")
        #expect(nobody.stderr.contains(folder.path))
        let viewer = try await BackboneProcess.run(
            ["keys", "create", "--role", "viewer", "--name", "dashboard"], environment: environment)
        let viewerID = try #require(
            viewer.stderr.split(whereSeparator: { $0 == " " || $0 == ";" }).first { $0.hasPrefix("key_") }.map(
                String.init), "\(viewer.stderr)")
        let revoked = try await BackboneProcess.run(["keys", "revoke", viewerID], environment: environment)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("revoked viewer key \(viewerID)"))
        let unknown = try await BackboneProcess.run(["keys", "revoke", "key_nothing"], environment: environment)
        #expect(unknown.status != 0 && unknown.stderr.contains("no key key_nothing"))

        // A second server of the same data folder is refused (serve owns its cluster), naming
        // the database; one of another database on the same port names the port.
        let sameFolder = try await BackboneProcess.run(["serve", "--port", "0"], environment: environment)
        #expect(sameFolder.status != 0)
        #expect(sameFolder.stderr.contains("another `backbone serve` is running"), "\(sameFolder.stderr)")
        #expect(sameFolder.stderr.contains("the embedded PostgreSQL in \(folder.path)"), "\(sameFolder.stderr)")
        let second = try await BackboneProcess.run(
            ["serve", "--port", "\(port)"], environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("port \(port) on 127.0.0.1 is already in use"), "\(second.stderr)")

        #expect(try await server.terminate(signal: SIGTERM, timeout: 60))
        #expect(server.process.terminationStatus == 0)
        // Stopping the service stopped its cluster.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("postmaster.pid").path))
    }

    @Test func keysNeverCreateADatabase() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bbn-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try await BackboneProcess.run(
            ["keys", "create", "--role", "coordinator"], environment: ["BACKBONE_DATA_DIR": folder.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("no Backbone database in \(folder.path)"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test func versionAndSettingsAreCheckedAtStart() async throws {
        let version = try await BackboneProcess.run(["--version"], environment: [:])
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == BackboneVersion.current)
        let cases: [([String], [String: String], String)] = [
            (
                ["serve"], ["DATABASE_POOL_SIZE": "0"],
                "DATABASE_POOL_SIZE is 0; it must be a number of connections from 1 to 500"
            ),
            (["serve", "--pool-size", "0"], [:], "--pool-size is 0"),
            (["serve"], ["PORT": "eighty"], "PORT=eighty is not a number"),
            (["serve", "--port", "70000"], [:], "--port is 70000"),
            (["serve"], ["IDLE_TIMEOUT_SECONDS": "0"], "IDLE_TIMEOUT_SECONDS is 0"),
            (["serve"], ["LOG_LEVEL": "loud"], "LOG_LEVEL=loud is not a level"),
            (["serve"], ["LOG_FORMAT": "xml"], "LOG_FORMAT=xml is not a format"),
            (["serve"], ["SUPPRESSION_MIN_COUNT": "-1"], "SUPPRESSION_MIN_COUNT is -1.0"),
        ]
        for (arguments, environment, message) in cases {
            let outcome = try await BackboneProcess.run(
                arguments, environment: environment.merging(["DATABASE_URL": "host=/nonexistent"]) { $1 })
            #expect(outcome.status != 0)
            #expect(outcome.stderr.contains(message), "\(arguments) \(environment): \(outcome.stderr)")
        }
    }

    @Test func logFormatJSONWritesOneObjectPerRequest() async throws {
        let database = try TestDatabase.fresh()
        _ = try await BackboneProcess.run(["migrate"], environment: ["DATABASE_URL": database])
        let created = try await BackboneProcess.run(
            ["keys", "create", "--role", "coordinator"], environment: ["DATABASE_URL": database])
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try BackboneProcess.launch(
            ["serve", "--port", "0", "--pool-size", "1"], environment: ["DATABASE_URL": database, "LOG_FORMAT": "json"])
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(try await BackboneProcess.waitFor(port: port, path: "/readyz"))
        _ = try await RawHTTPClient(port: port).request(
            "GET", "/v1/agendas/nowhere", headers: ["Authorization": "Bearer \(secret)", "X-Request-Id": "trace-me"])
        #expect(try await server.terminate(signal: SIGTERM))
        let lines = server.outcome().stderr.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every line is a JSON object: \(lines)")
        let request = try #require(objects.first { $0["request_id"] as? String == "trace-me" })
        #expect(request["route"] as? String == "/v1/agendas/{key}")
        #expect(request["method"] as? String == "GET")
        #expect(request["status"] as? Int == 404)
        #expect(request["code"] as? String == "not-found")
        #expect((request["key"] as? String)?.hasPrefix("key_") == true)
        #expect(request["duration_ms"] is Double || request["duration_ms"] is Int)
        #expect(!server.outcome().stderr.contains(secret))
    }
}
