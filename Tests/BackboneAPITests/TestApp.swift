import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// A Backbone server on a real socket over a database of its own, with a coordinator key.
struct TestApp {
    let app: BackboneApp
    let server: HTTPServer
    let pool: ConnectionPool
    /// The pool reads go to, when the app was given a replica.
    let replica: ConnectionPool?
    let conninfo: String
    let port: Int
    let coordinator: String

    static func start(webhooks: WebhookSettings = WebhookSettings(), submissionEvents: Bool = true) async throws
        -> TestApp
    {
        try await start(on: TestDatabase.fresh(), webhooks: webhooks, submissionEvents: submissionEvents)
    }

    /// Over the database `conninfo`, migrated first unless `migrate` is false; reading from
    /// `replica` (a conninfo) when given, and using `primary` instead of `conninfo` once the
    /// coordinator's key is made there (a primary that is down, for the read-only mode).
    static func start(
        on conninfo: String, migrate: Bool = true, webhooks: WebhookSettings = WebhookSettings(),
        submissionEvents: Bool = true, replica replicaConninfo: String? = nil, primary: String? = nil
    ) async throws -> TestApp {
        var pool = ConnectionPool(conninfo: conninfo, size: 4)
        let coordinator = try await pool.withConnection { connection in
            if migrate { _ = try Schema.migrate(connection) }
            return try APIKeys.create(connection, role: .coordinator, partner: nil, name: "test coordinator").secret
        }
        if let primary {
            try await pool.close()
            pool = ConnectionPool(conninfo: primary, size: 4)
        }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let replica = replicaConninfo.map { ConnectionPool(conninfo: $0, size: 4) }
        let app = BackboneApp(
            pool: pool, logger: logger, webhooks: webhooks, submissionEvents: submissionEvents, replica: replica)
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), router: app.router(),
            problems: app.problems,
            logger: logger, metrics: app.metrics)
        let address = try await server.start()
        app.start()
        return TestApp(
            app: app, server: server, pool: pool, replica: replica, conninfo: conninfo, port: address.port!,
            coordinator: coordinator)
    }

    func stop() async throws {
        app.stop()
        try await server.shutdown()
        try await pool.close()
        try await replica?.close()
    }

    /// Sends a request with an optional bearer key and a JSON (or raw) body.
    func request(
        _ method: String, _ path: String, key: String? = nil, json: String? = nil, body: Data? = nil,
        contentType: String? = nil, headers: [String: String] = [:]
    ) async throws -> RawHTTPClient.Response {
        var headers = headers
        if let key { headers["Authorization"] = "Bearer \(key)" }
        var payload = body
        if let json {
            payload = Data(json.utf8)
            headers["Content-Type"] = "application/json"
        }
        if let contentType { headers["Content-Type"] = contentType }
        return try await RawHTTPClient(port: port).request(method, path, headers: headers, body: payload)
    }

    /// Waits (up to 10 s) until the app hears changes, so its caches keep values.
    func waitUntilListening() async throws {
        let deadline = Date().addingTimeInterval(10)
        while !app.changes.isListening, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(app.changes.isListening)
    }

    /// Asks for the indicator report at `path` (as the coordinator) until one is given as
    /// kept, for up to 30 s: a write anywhere in the database cluster (another test's) makes
    /// the next report computed, so a count of tries would fail while other tests write.
    /// Returns how many were asked.
    @discardableResult
    func askUntilKept(_ path: String) async throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        var asked = 0
        repeat {
            #expect(try await coordinator("GET", path).status == 200)
            asked += 1
        } while try await reportsGiven(source: "kept") == 0 && Date() < deadline
        return asked
    }

    /// How many indicator reports the server has given as `source` (`kept` or `computed`), from `/metrics`.
    func reportsGiven(source: String) async throws -> Int {
        let line = try await coordinator("GET", "/metrics").text.split(separator: "\n")
            .first {
                $0.hasPrefix("backbone_reports_total{") && $0.contains(#"report="indicator""#)
                    && $0.contains(#"source="\#(source)""#)
            }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
    }

    /// Releases `period` of `agenda` as the coordinator: what partner and viewer keys read from then on.
    @discardableResult
    func release(_ agenda: String, _ period: String) async throws -> RawHTTPClient.Response {
        let response = try await coordinator(
            "POST", "/v1/releases", json: #"{"agenda": "\#(agenda)", "period": "\#(period)"}"#)
        #expect(response.status == 201, "\(response.text)")
        return response
    }

    /// As the coordinator.
    func coordinator(_ method: String, _ path: String, json: String? = nil) async throws -> RawHTTPClient.Response {
        try await request(method, path, key: coordinator, json: json)
    }

    /// Creates a key of another role through the API and returns its secret.
    func key(role: String, partner: String? = nil) async throws -> String {
        let partnerField = partner.map { #", "partner": "\#($0)""# } ?? ""
        let response = try await coordinator("POST", "/v1/keys", json: #"{"role": "\#(role)"\#(partnerField)}"#)
        guard response.status == 201, let secret = response.json["secret"] as? String else {
            throw RawHTTPClient.Failure(description: "key creation failed: \(response.status) \(response.text)")
        }
        return secret
    }

    /// Runs SQL against the app's database (to check what was stored).
    func count(_ table: String, where condition: String = "TRUE") throws -> Int {
        let connection = try Connection(conninfo)
        return try connection.query(
            "SELECT count(*) FROM \(Query(unsafeSQL: table)) WHERE \(Query(unsafeSQL: condition))")[0].decode(
                Int.self, at: 0)
    }

    /// The audit trail of every stored measurement, as its history endpoint shows it:
    /// the actions of each, in measurement id order.
    func historyActions() async throws -> [[String]] {
        let items = try await coordinator("GET", "/v1/measurements?limit=1000").json["items"] as? [[String: Any]] ?? []
        var actions: [[String]] = []
        for case let id as Int in items.map({ $0["id"] }) {
            let entries =
                try await coordinator("GET", "/v1/measurements/\(id)/history").json["entries"] as? [[String: Any]] ?? []
            actions.append(entries.map { $0["action"] as? String ?? "?" })
        }
        return actions
    }

    /// A small registry: one agenda, indicators of several kinds, a neighborhood tree, two partners.
    func seedRegistry() async throws {
        let bodies: [(String, String)] = [
            ("/v1/agendas", #"{"id": "literacy", "name": "Every adult reads", "starts_on": "2024-01-01"}"#),
            (
                "/v1/indicators",
                #"{"code": "esl_learners", "agenda": "literacy", "name": "ESL learners enrolled", "value_type": "count", "aggregation": "sum", "period_type": "month", "min": 0, "max": 5000, "dimensions": [{"name": "age_group", "values": ["16-24", "25-44", "45+"]}]}"#
            ),
            (
                "/v1/indicators",
                #"{"code": "pass_rate", "agenda": "literacy", "name": "Test pass rate", "value_type": "percent", "aggregation": "ratio", "period_type": "quarter"}"#
            ),
            (
                "/v1/indicators",
                #"{"code": "volunteers", "agenda": "literacy", "name": "Active volunteers", "value_type": "count", "aggregation": "last", "period_type": "month"}"#
            ),
            (
                "/v1/indicators",
                #"{"code": "retired", "agenda": "literacy", "name": "Retired measure", "value_type": "count", "aggregation": "sum", "period_type": "month", "active": false}"#
            ),
            ("/v1/neighborhoods", #"{"code": "city", "name": "City", "population": 100000}"#),
            (
                "/v1/neighborhoods",
                #"{"code": "northside", "name": "Northside", "parent": "city", "population": 12000}"#
            ),
            ("/v1/neighborhoods", #"{"code": "southside", "name": "Southside", "parent": "city", "population": 9000}"#),
            (
                "/v1/partners",
                #"{"id": "central-library", "name": "Central Library", "kind": "library", "level": "collaborating"}"#
            ),
            ("/v1/partners", #"{"id": "literacy-now", "name": "Literacy Now", "kind": "nonprofit"}"#),
        ]
        for (path, body) in bodies {
            let response = try await coordinator("POST", path, json: body)
            guard response.status == 201 else {
                throw RawHTTPClient.Failure(description: "seeding \(path) failed: \(response.status) \(response.text)")
            }
        }
    }
}

extension RawHTTPClient.Response {
    /// The `errors` of a problem document as (row, field, code) triples.
    var fieldErrors: [(row: Int?, field: String, code: String)] {
        (json["errors"] as? [[String: Any]] ?? []).map {
            ($0["row"] as? Int, $0["field"] as? String ?? "", $0["code"] as? String ?? "")
        }
    }

    var isProblem: Bool { header("content-type") == "application/problem+json" }
}

/// A JSON measurement row for the seeded registry, with overrides.
func row(
    indicator: String = "esl_learners", neighborhood: String = "northside", period: String = "2026-03",
    value: String = "12", dimensions: String = #"{"age_group": "25-44"}"#, extra: String = ""
) -> String {
    #"{"partner": "central-library", "indicator": "\#(indicator)", "neighborhood": "\#(neighborhood)", "period": "\#(period)", "value": \#(value), "dimensions": \#(dimensions)\#(extra)}"#
}

func batch(_ rows: [String]) -> String {
    #"{"measurements": [\#(rows.joined(separator: ","))]}"#
}
