import BackboneCore
import Foundation
import TestSupport
import Testing

/// Every operation of openapi.yaml × every kind of caller, against an expected status
/// table. An operation the contract lists without an entry here fails the test, so a new
/// route cannot ship without deciding who may call it.
@Suite("Access matrix: every operation × every caller")
struct AccessMatrixTests {
    enum Caller: String, CaseIterable {
        case noKey = "no key"
        case malformed = "malformed key"
        case revoked = "revoked key"
        case viewer
        case partnerB = "partner B"
        case partnerA = "partner A"
        case coordinator
    }

    /// One operation's request and the status each caller gets. Partner A owns the
    /// measurements addressed; partner B is another partner.
    struct Entry {
        var path: String
        var body: String?
        var expected: [Caller: Int]
        /// A caller that changes state gets a resource of its own (a DELETE of a measurement).
        var paths: [Caller: String] = [:]
        /// A caller that sends a body of its own (the coordinator quotes a contribution, its partner rewrites it).
        var bodies: [Caller: String] = [:]
        /// The body's media type when it is not JSON (the dashboard's sign-in form).
        var contentType: String? = nil
    }

    static func everyone(_ status: Int) -> [Caller: Int] {
        Dictionary(uniqueKeysWithValues: Caller.allCases.map { ($0, status) })
    }

    /// 401 for the three callers without a valid key; the rest as given.
    static func keyed(viewer: Int, a: Int, b: Int, coordinator: Int) -> [Caller: Int] {
        [
            .noKey: 401, .malformed: 401, .revoked: 401, .viewer: viewer, .partnerA: a, .partnerB: b,
            .coordinator: coordinator,
        ]
    }

    static let anyKey = keyed(viewer: 200, a: 200, b: 200, coordinator: 200)
    static func coordinatorOnly(_ status: Int) -> [Caller: Int] {
        keyed(viewer: 403, a: 403, b: 403, coordinator: status)
    }
    static let ownRawData = keyed(viewer: 403, a: 200, b: 404, coordinator: 200)
    /// Partner A's webhook endpoint: another partner and the coordinator do not see it.
    static func ownWebhook(_ status: Int) -> [Caller: Int] { keyed(viewer: 403, a: status, b: 404, coordinator: 404) }

    /// Without a live key, on to the sign-in form; a viewer refused; the rest as given.
    static func uploaders(_ status: Int) -> [Caller: Int] {
        [
            .noKey: 303, .malformed: 303, .revoked: 303, .viewer: 403, .partnerA: status, .partnerB: status,
            .coordinator: status,
        ]
    }

    static let multipartType = "multipart/form-data; boundary=matrix-boundary"
    static let uploadedCSV =
        "indicator,neighborhood,period,value,dim.age_group\nesl_learners,northside,2026-03,12,25-44\n"

    /// A `multipart/form-data` body of text fields and, optionally, a file.
    static func multipart(_ fields: [String: String], file: String? = nil) -> String {
        var body = fields.sorted { $0.key < $1.key }.map {
            "--matrix-boundary\r\nContent-Disposition: form-data; name=\"\($0.key)\"\r\n\r\n\($0.value)\r\n"
        }.joined()
        if let file {
            body +=
                "--matrix-boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n\(file)\r\n"
        }
        return body + "--matrix-boundary--\r\n"
    }

    static let table: [String: Entry] = [
        "GET /healthz": Entry(path: "/healthz", expected: everyone(200)),
        "GET /readyz": Entry(path: "/readyz", expected: everyone(200)),
        "GET /openapi.yaml": Entry(path: "/openapi.yaml", expected: everyone(200)),
        // The counts tick with each submission: a watcher could tell who submitted when.
        "GET /metrics": Entry(path: "/metrics", expected: coordinatorOnly(200)),

        "POST /v1/keys": Entry(
            path: "/v1/keys", body: #"{"role": "viewer", "name": "matrix"}"#, expected: coordinatorOnly(201)),
        "GET /v1/keys": Entry(path: "/v1/keys", expected: coordinatorOnly(200)),
        "GET /v1/keys/{id}": Entry(path: "/v1/keys/{spareKey}", expected: coordinatorOnly(200)),
        "DELETE /v1/keys/{id}": Entry(path: "/v1/keys/{spareKey}", expected: coordinatorOnly(200)),

        "POST /v1/agendas": Entry(
            path: "/v1/agendas", body: #"{"id": "new-agenda", "name": "New"}"#, expected: coordinatorOnly(201)),
        "GET /v1/agendas": Entry(path: "/v1/agendas", expected: anyKey),
        "GET /v1/agendas/{id}": Entry(path: "/v1/agendas/literacy", expected: anyKey),
        "PATCH /v1/agendas/{id}": Entry(
            path: "/v1/agendas/literacy", body: #"{"name": "Renamed"}"#, expected: coordinatorOnly(200)),
        // Deactivating a registry entry answers it, inactive (200).
        "DELETE /v1/agendas/{id}": Entry(path: "/v1/agendas/spare", expected: coordinatorOnly(200)),
        "GET /v1/agendas/{id}/template.csv": Entry(path: "/v1/agendas/literacy/template.csv", expected: anyKey),

        "POST /v1/indicators": Entry(
            path: "/v1/indicators",
            body:
                #"{"code": "new_ind", "agenda": "literacy", "name": "n", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/indicators": Entry(path: "/v1/indicators", expected: anyKey),
        "GET /v1/indicators/{code}": Entry(path: "/v1/indicators/esl_learners", expected: anyKey),
        "PATCH /v1/indicators/{code}": Entry(
            path: "/v1/indicators/esl_learners", body: #"{"name": "Renamed"}"#, expected: coordinatorOnly(200)),
        "DELETE /v1/indicators/{code}": Entry(path: "/v1/indicators/spare_ind", expected: coordinatorOnly(200)),
        "GET /v1/indicators/{code}/template.csv": Entry(
            path: "/v1/indicators/esl_learners/template.csv", expected: anyKey),

        "POST /v1/partners": Entry(
            path: "/v1/partners", body: #"{"id": "new-partner", "name": "N", "kind": "library"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/partners": Entry(path: "/v1/partners", expected: anyKey),
        "GET /v1/partners/{id}": Entry(path: "/v1/partners/central-library", expected: anyKey),
        "PATCH /v1/partners/{id}": Entry(
            path: "/v1/partners/central-library", body: #"{"name": "Renamed"}"#, expected: coordinatorOnly(200)),
        "DELETE /v1/partners/{id}": Entry(path: "/v1/partners/spare-partner", expected: coordinatorOnly(200)),

        "POST /v1/neighborhoods": Entry(
            path: "/v1/neighborhoods", body: #"{"code": "new-n", "name": "N"}"#, expected: coordinatorOnly(201)),
        "GET /v1/neighborhoods": Entry(path: "/v1/neighborhoods", expected: anyKey),
        "GET /v1/neighborhoods/{code}": Entry(path: "/v1/neighborhoods/northside", expected: anyKey),
        "PATCH /v1/neighborhoods/{code}": Entry(
            path: "/v1/neighborhoods/northside", body: #"{"name": "Renamed"}"#, expected: coordinatorOnly(200)),
        "DELETE /v1/neighborhoods/{code}": Entry(path: "/v1/neighborhoods/spare-n", expected: coordinatorOnly(200)),

        "POST /v1/commitments": Entry(
            path: "/v1/commitments", body: #"{"partner": "literacy-now", "indicator": "volunteers"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/commitments": Entry(path: "/v1/commitments", expected: anyKey),
        "GET /v1/commitments/{id}": Entry(path: "/v1/commitments/{commitment}", expected: anyKey),
        "PATCH /v1/commitments/{id}": Entry(
            path: "/v1/commitments/{commitment}", body: #"{"neighborhood": null}"#, expected: coordinatorOnly(200)),
        "DELETE /v1/commitments/{id}": Entry(path: "/v1/commitments/{spareCommitment}", expected: coordinatorOnly(204)),

        // Partner B may not submit partner A's rows (403), list them (403) or see them (404).
        "POST /v1/measurements": Entry(
            path: "/v1/measurements", body: batch([row(period: "2026-04")]),
            expected: keyed(viewer: 403, a: 200, b: 403, coordinator: 200)),
        "GET /v1/measurements": Entry(
            path: "/v1/measurements?partner=central-library",
            expected: keyed(viewer: 403, a: 200, b: 403, coordinator: 200)),
        "GET /v1/measurements/{id}": Entry(path: "/v1/measurements/{measurement}", expected: ownRawData),
        "DELETE /v1/measurements/{id}": Entry(
            path: "/v1/measurements/{measurement}", expected: keyed(viewer: 403, a: 204, b: 404, coordinator: 204),
            paths: [.partnerA: "/v1/measurements/{partnersOwn}", .coordinator: "/v1/measurements/{coordinatorsOwn}"]),
        "GET /v1/measurements/{id}/history": Entry(
            path: "/v1/measurements/{measurement}/history", expected: ownRawData),

        // A partner reads and explains its own flags; a viewer none (a flag names one partner's value).
        "GET /v1/flags": Entry(path: "/v1/flags", expected: keyed(viewer: 403, a: 200, b: 200, coordinator: 200)),
        "GET /v1/flags/{id}": Entry(path: "/v1/flags/{flag}", expected: ownRawData),
        "PATCH /v1/flags/{id}": Entry(
            path: "/v1/flags/{flag}", body: #"{"note": "matrix"}"#, expected: ownRawData),
        "POST /v1/rules/{id}/evaluate": Entry(
            path: "/v1/rules/evaluated-rule/evaluate", expected: coordinatorOnly(200)),
        "POST /v1/rules": Entry(
            path: "/v1/rules",
            body:
                #"{"id": "new-rule", "agenda": "literacy", "name": "n", "left": "volunteers", "operator": "<=", "right": "esl_learners"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/rules": Entry(path: "/v1/rules", expected: anyKey),
        "GET /v1/rules/{id}": Entry(path: "/v1/rules/matrix-rule", expected: anyKey),
        "PATCH /v1/rules/{id}": Entry(
            path: "/v1/rules/matrix-rule", body: #"{"name": "Renamed"}"#, expected: coordinatorOnly(200)),
        // Deactivating a rule answers it, inactive (200).
        "DELETE /v1/rules/{id}": Entry(path: "/v1/rules/matrix-rule", expected: coordinatorOnly(200)),
        "GET /v1/rules/{id}/history": Entry(path: "/v1/rules/matrix-rule/history", expected: coordinatorOnly(200)),

        // The action plan is shared: every key reads it; the owning partner (A) updates its
        // action's status and note, another partner is refused (403: it can read the action).
        "POST /v1/actions": Entry(
            path: "/v1/actions",
            body:
                #"{"indicator": "esl_learners", "title": "t", "owner": "central-library", "due": "2030-01-31"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/actions": Entry(path: "/v1/actions", expected: anyKey),
        "GET /v1/actions/{id}": Entry(path: "/v1/actions/{action}", expected: anyKey),
        "PATCH /v1/actions/{id}": Entry(
            path: "/v1/actions/{action}", body: #"{"note": "matrix"}"#,
            expected: keyed(viewer: 403, a: 200, b: 403, coordinator: 200)),
        "GET /v1/actions/{id}/history": Entry(path: "/v1/actions/{action}/history", expected: anyKey),

        // Webhooks: each key manages its own endpoints (partner A owns {webhook}); viewers none.
        "POST /v1/webhooks": Entry(
            path: "/v1/webhooks", body: #"{"url": "https://198.51.100.7/hook", "events": ["measurements.submitted"]}"#,
            expected: keyed(viewer: 403, a: 201, b: 201, coordinator: 201)),
        "GET /v1/webhooks": Entry(path: "/v1/webhooks", expected: keyed(viewer: 403, a: 200, b: 200, coordinator: 200)),
        "GET /v1/webhooks/{id}": Entry(path: "/v1/webhooks/{webhook}", expected: ownWebhook(200)),
        "DELETE /v1/webhooks/{id}": Entry(path: "/v1/webhooks/{deletedWebhook}", expected: ownWebhook(200)),
        "POST /v1/webhooks/{id}/ping": Entry(path: "/v1/webhooks/{webhook}/ping", expected: ownWebhook(202)),
        "GET /v1/webhooks/{id}/deliveries": Entry(
            path: "/v1/webhooks/{webhook}/deliveries", expected: ownWebhook(200)),
        "POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver": Entry(
            path: "/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver", expected: ownWebhook(200)),

        "POST /v1/locks": Entry(
            path: "/v1/locks", body: #"{"agenda": "literacy", "period": "2025-Q1"}"#, expected: coordinatorOnly(201)),
        "GET /v1/locks": Entry(path: "/v1/locks", expected: anyKey),
        // Only the coordinator publishes a period; every key may see what was published.
        "POST /v1/releases": Entry(
            path: "/v1/releases", body: #"{"agenda": "literacy", "period": "2026-01"}"#, expected: coordinatorOnly(201)),
        "GET /v1/releases": Entry(path: "/v1/releases?agenda=literacy", expected: anyKey),
        "DELETE /v1/locks/{id}": Entry(path: "/v1/locks/{lock}", expected: coordinatorOnly(204)),

        "GET /v1/reports/indicators/{code}": Entry(
            path: "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-01", expected: anyKey),
        "GET /v1/reports/scorecard": Entry(path: "/v1/reports/scorecard?agenda=literacy", expected: anyKey),
        "GET /v1/reports/completeness": Entry(
            path: "/v1/reports/completeness?agenda=literacy&period=2026-Q1", expected: coordinatorOnly(200)),
        "GET /v1/reports/equity": Entry(
            path: "/v1/reports/equity?indicator=esl_learners&period=2026-01", expected: anyKey),
        // Every key reads the packet (the public one unless it is the coordinator's) and public
        // publications; only the coordinator publishes (a coordinator publication is a 404 to
        // others: BoardPacketTests).
        "GET /v1/reports/board-packet": Entry(
            path: "/v1/reports/board-packet?agenda=literacy&period=2026-Q1", expected: anyKey),
        "POST /v1/publications": Entry(
            path: "/v1/publications",
            body: #"{"agenda": "literacy", "period": "2026-Q1", "title": "Matrix", "audience": "public"}"#,
            expected: coordinatorOnly(201)),
        "GET /v1/publications": Entry(path: "/v1/publications?agenda=literacy", expected: anyKey),
        "GET /v1/publications/{id}": Entry(path: "/v1/publications/{publication}", expected: anyKey),

        // The dashboard is for browsers: without a live key (no key, a malformed or revoked
        // one) the page redirects to the sign-in form (303) and the form is shown (200); with
        // one, the form redirects to the page. Every role sees the shared page (a viewer's
        // view for partners). Signing in depends on the key in the form, not on the header.
        "GET /dashboard": Entry(
            path: "/dashboard?agenda=literacy",
            expected: [
                .noKey: 303, .malformed: 303, .revoked: 303, .viewer: 200, .partnerA: 200, .partnerB: 200,
                .coordinator: 200,
            ]),
        "GET /dashboard/sign-in": Entry(
            path: "/dashboard/sign-in",
            expected: [
                .noKey: 200, .malformed: 200, .revoked: 200, .viewer: 303, .partnerA: 303, .partnerB: 303,
                .coordinator: 303,
            ]),
        "POST /dashboard/sign-in": Entry(
            path: "/dashboard/sign-in", body: "key={signInKey}", expected: everyone(303),
            contentType: "application/x-www-form-urlencoded"),
        "POST /dashboard/sign-out": Entry(path: "/dashboard/sign-out", expected: everyone(303)),
        // The upload page: partners and the coordinator; a viewer is refused with a page.
        // (The dry run and a partial store answer 200 whatever the file's rows say.)
        "GET /dashboard/upload": Entry(path: "/dashboard/upload", expected: uploaders(200)),
        "GET /dashboard/upload/template.csv": Entry(
            path: "/dashboard/upload/template.csv?agenda=literacy", expected: uploaders(200)),
        "POST /dashboard/upload": Entry(
            path: "/dashboard/upload", body: multipart(["mode": "all"], file: uploadedCSV), expected: uploaders(200),
            contentType: multipartType),
        "POST /dashboard/upload/store": Entry(
            path: "/dashboard/upload/store",
            body: multipart(["idempotency_key": "matrix", "mode": "partial", "content": uploadedCSV]),
            expected: uploaders(200), contentType: multipartType),
        "GET /dashboard/flags/{id}": Entry(
            path: "/dashboard/flags/{flag}",
            expected: [
                .noKey: 303, .malformed: 303, .revoked: 303, .viewer: 403, .partnerA: 200, .partnerB: 404,
                .coordinator: 200,
            ]),
        "GET /dashboard/board-packet": Entry(
            path: "/dashboard/board-packet?agenda=literacy&period=2026-Q1",
            expected: [
                .noKey: 303, .malformed: 303, .revoked: 303, .viewer: 200, .partnerA: 200, .partnerB: 200,
                .coordinator: 200,
            ]),
        "GET /dashboard/charts/{code}/trend.svg": Entry(
            path: "/dashboard/charts/esl_learners/trend.svg", expected: anyKey),
        "GET /dashboard/charts/{code}/neighborhoods.svg": Entry(
            path: "/dashboard/charts/esl_learners/neighborhoods.svg", expected: anyKey),

        // The coordinator writes stories; every key reads them.
        "PUT /v1/stories/{indicator}/{period}": Entry(
            path: "/v1/stories/esl_learners/2026-01", body: #"{"what_works": "matrix"}"#, expected: coordinatorOnly(200)
        ),
        "GET /v1/stories/{indicator}/{period}": Entry(path: "/v1/stories/esl_learners/2026-02", expected: anyKey),
        "GET /v1/stories": Entry(path: "/v1/stories?agenda=literacy&period=2026-Q1", expected: anyKey),
        "GET /v1/stories/{indicator}/{period}/history": Entry(
            path: "/v1/stories/esl_learners/2026-01/history", expected: anyKey),
        "POST /v1/stories/{indicator}/{period}/history/{version}/restore": Entry(
            path: "/v1/stories/esl_learners/2026-01/history/{storyVersion}/restore", expected: coordinatorOnly(201)),
        // A partner writes contributions in its own name; an unquoted one is its and the
        // coordinator's alone (404 to the others), and only they change it.
        "POST /v1/contributions": Entry(
            path: "/v1/contributions", body: #"{"indicator": "esl_learners", "period": "2026-01", "text": "matrix"}"#,
            expected: keyed(viewer: 403, a: 201, b: 201, coordinator: 403)),
        "GET /v1/contributions": Entry(path: "/v1/contributions", expected: anyKey),
        "GET /v1/contributions/{id}": Entry(
            path: "/v1/contributions/{contribution}", expected: keyed(viewer: 404, a: 200, b: 404, coordinator: 200)),
        "PATCH /v1/contributions/{id}": Entry(
            path: "/v1/contributions/{patchedContribution}", body: #"{"text": "matrix"}"#,
            expected: keyed(viewer: 403, a: 200, b: 404, coordinator: 200),
            bodies: [.coordinator: #"{"quoted": true}"#]),
        "DELETE /v1/contributions/{id}": Entry(
            path: "/v1/contributions/{contribution}", expected: keyed(viewer: 403, a: 204, b: 404, coordinator: 204),
            paths: [
                .partnerA: "/v1/contributions/{partnersOwnContribution}",
                .coordinator: "/v1/contributions/{coordinatorsContribution}",
            ]),
    ]

    @Test func everyOperationAnswersEachCallerAsTheTableSays() async throws {
        let contract = try String(
            contentsOf: BackboneProcess.packageRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let operations = try OpenAPIOperations(contract).operations
        let listed = Set(operations.map(\.description))
        #expect(operations.count >= 40)
        #expect(Set(Self.table.keys).subtracting(listed).isEmpty, "entries for operations openapi.yaml does not list")

        let test = try await TestApp.start()
        try await test.seedRegistry()
        var ids: [String: String] = [:]
        func create(_ path: String, _ json: String, id field: String = "id", method: String = "POST") async throws
            -> String
        {
            let response = try await test.coordinator(method, path, json: json)
            guard response.status == 201 || response.status == 200, let id = response.json[field] else {
                throw RawHTTPClient.Failure(description: "setup \(path) failed: \(response.status) \(response.text)")
            }
            return "\(id)"
        }
        _ = try await create("/v1/agendas", #"{"id": "spare", "name": "Spare"}"#)
        _ = try await create(
            "/v1/indicators",
            #"{"code": "spare_ind", "agenda": "literacy", "name": "s", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#,
            id: "code")
        _ = try await create("/v1/partners", #"{"id": "spare-partner", "name": "S", "kind": "other"}"#)
        _ = try await create("/v1/neighborhoods", #"{"code": "spare-n", "name": "S"}"#, id: "code")
        ids["commitment"] = try await create(
            "/v1/commitments", #"{"partner": "central-library", "indicator": "esl_learners"}"#)
        ids["spareCommitment"] = try await create(
            "/v1/commitments", #"{"partner": "literacy-now", "indicator": "esl_learners"}"#)
        _ = try await create(
            "/v1/rules",
            #"{"id": "matrix-rule", "agenda": "literacy", "name": "m", "left": "esl_learners[age_group=16-24]", "operator": "<=", "right": "esl_learners"}"#
        )
        ids["lock"] = try await create("/v1/locks", #"{"agenda": "literacy", "period": "2024-Q1"}"#)
        ids["publication"] = try await create(
            "/v1/publications",
            #"{"agenda": "literacy", "period": "2025-Q4", "title": "Read by all", "audience": "public"}"#)
        ids["action"] = try await create(
            "/v1/actions",
            #"{"indicator": "esl_learners", "title": "Matrix", "owner": "central-library", "due": "2030-01-31"}"#)
        ids["spareKey"] = try await create("/v1/keys", #"{"role": "viewer", "name": "spare"}"#)
        ids["signInKey"] = try await create("/v1/keys", #"{"role": "viewer", "name": "sign-in"}"#, id: "secret")
        let stored = try await test.coordinator(
            "POST", "/v1/measurements", json: batch(["2026-01", "2026-02", "2026-03"].map { row(period: $0) }))
        #expect(stored.status == 200, "\(stored.text)")
        let measurements =
            try await test.coordinator("GET", "/v1/measurements?partner=central-library").json["items"]
            as? [[String: Any]] ?? []
        let measurementIDs = measurements.compactMap { $0["id"] as? Int }.sorted()
        try #require(measurementIDs.count == 3)
        (ids["measurement"], ids["partnersOwn"], ids["coordinatorsOwn"]) = (
            String(measurementIDs[0]), String(measurementIDs[1]), String(measurementIDs[2])
        )

        _ = try await create(
            "/v1/rules",
            #"{"id": "evaluated-rule", "agenda": "literacy", "name": "e", "left": "esl_learners[age_group=16-24]", "operator": "<=", "right": "esl_learners"}"#
        )
        // A flag on partner A's value: a steady year, then a tenfold slip.
        let steady = (1...12).map {
            row(neighborhood: "southside", period: String(format: "2025-%02d", $0), value: "100")
        }
        let slipped = try await test.coordinator(
            "POST", "/v1/measurements",
            json: batch(steady + [row(neighborhood: "southside", period: "2026-01", value: "1000")]))
        #expect(slipped.json["warning_count"] as? Int == 1, "\(slipped.text)")
        let flags = try await test.coordinator("GET", "/v1/flags").json["items"] as? [[String: Any]] ?? []
        ids["flag"] = try #require(flags.first?["id"] as? Int).description

        ids["storyVersion"] = try await create(
            "/v1/stories/esl_learners/2026-01", #"{"story_behind_the_curve": "matrix"}"#, id: "version", method: "PUT")
        let contributor = try await test.key(role: "partner", partner: "central-library")
        for name in ["contribution", "patchedContribution", "partnersOwnContribution", "coordinatorsContribution"] {
            let response = try await test.request(
                "POST", "/v1/contributions", key: contributor,
                json: #"{"indicator": "esl_learners", "period": "2026-01", "text": "\#(name)"}"#)
            ids[name] = try #require(response.json["id"] as? Int, "\(response.text)").description
        }

        let webhookOwner = try await test.key(role: "partner", partner: "central-library")
        for name in ["webhook", "deletedWebhook"] {
            let response = try await test.request(
                "POST", "/v1/webhooks", key: webhookOwner,
                json: #"{"url": "https://198.51.100.7/\#(name)", "events": ["*"]}"#)
            ids[name] = try #require(response.json["id"] as? Int, "\(response.text)").description
        }
        _ = try await test.request("POST", "/v1/webhooks/\(ids["webhook"]!)/ping", key: webhookOwner)
        try await test.pool.withConnection { _ = try WebhookQueue.fanOut($0) }
        ids["delivery"] = try #require(
            try await test.request("GET", "/v1/webhooks/\(ids["webhook"]!)/deliveries", key: webhookOwner)
                .json["items"] as? [[String: Any]]
        ).first?["id"].map { "\($0)" }

        let revokedKey = try await test.key(role: "viewer")
        let revokedID =
            try #require(try await test.coordinator("GET", "/v1/keys").json["items"] as? [[String: Any]])
            .last { ($0["role"] as? String) == "viewer" && !["spare", "sign-in"].contains($0["name"] as? String) }?[
                "id"] as? String
        #expect(try await test.coordinator("DELETE", "/v1/keys/\(try #require(revokedID))").status == 200)
        let headers: [Caller: [String: String]] = [
            .noKey: [:],
            .malformed: ["Authorization": "Basic Zm9vOmJhcg=="],
            .revoked: ["Authorization": "Bearer \(revokedKey)"],
            .viewer: ["Authorization": "Bearer \(try await test.key(role: "viewer"))"],
            .partnerA: ["Authorization": "Bearer \(try await test.key(role: "partner", partner: "central-library"))"],
            .partnerB: ["Authorization": "Bearer \(try await test.key(role: "partner", partner: "literacy-now"))"],
            .coordinator: ["Authorization": "Bearer \(test.coordinator)"],
        ]

        var mismatches: [String] = []
        var checked = 0
        for operation in operations {
            guard let entry = Self.table[operation.description] else {
                mismatches.append("\(operation): no entry in the access matrix")
                continue
            }
            // Refusals first: they change nothing, so the callers allowed to act see the same state.
            for caller in Caller.allCases {
                guard let expected = entry.expected[caller] else {
                    mismatches.append("\(operation) as \(caller.rawValue): no expected status")
                    continue
                }
                var path = entry.paths[caller] ?? entry.path
                var body = entry.bodies[caller] ?? entry.body
                for (name, id) in ids {
                    path = path.replacingOccurrences(of: "{\(name)}", with: id)
                    body = body?.replacingOccurrences(of: "{\(name)}", with: id)
                }
                let response =
                    try await entry.contentType == nil
                    ? test.request(operation.method, path, json: body, headers: headers[caller]!)
                    : test.request(
                        operation.method, path, body: body.map { Data($0.utf8) }, contentType: entry.contentType,
                        headers: headers[caller]!)
                checked += 1
                if response.status != expected {
                    mismatches.append(
                        "\(operation) as \(caller.rawValue): \(response.status), expected \(expected) (\(response.text.prefix(160)))"
                    )
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.joined(separator: "\n"))")
        #expect(checked == operations.count * Caller.allCases.count)
        try await test.stop()
    }

    /// Every operation that takes a body refuses each caller its access refuses (the
    /// table's 401s and 403s) on the request's head alone: a 32 MiB body is announced and
    /// never sent, and the refusal comes without waiting for it. (Partner B's 403 on
    /// partner A's rows is decided by the rows, so it needs the body.)
    @Test func accessRefusalsComeBeforeTheBody() async throws {
        let contract = try String(
            contentsOf: BackboneProcess.packageRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let operations = try OpenAPIOperations(contract).operations
        let test = try await TestApp.start()
        try await test.seedRegistry()
        let authorization: [Caller: String] = [
            .malformed: "Basic Zm9vOmJhcg==",
            .revoked: "Bearer bbk_not_a_key_anyone_has",  // refused by the same lookup as a revoked one
            .viewer: "Bearer \(try await test.key(role: "viewer"))",
            .partnerA: "Bearer \(try await test.key(role: "partner", partner: "central-library"))",
            .partnerB: "Bearer \(try await test.key(role: "partner", partner: "literacy-now"))",
            .coordinator: "Bearer \(test.coordinator)",
        ]
        var mismatches: [String] = []
        var checked = 0
        for operation in operations {
            guard let entry = Self.table[operation.description], entry.body != nil else { continue }
            for caller in Caller.allCases {
                guard let expected = entry.expected[caller], expected == 401 || expected == 403 else { continue }
                if caller == .partnerB, let own = entry.expected[.partnerA], (200..<300).contains(own) { continue }
                let path = entry.path.replacing(/\{[A-Za-z]+\}/, with: "1")
                let client = try RawHTTPClient(port: test.port, timeout: 5)
                let key = authorization[caller].map { "Authorization: \($0)\r\n" } ?? ""
                try await client.send(
                    "\(operation.method) \(path) HTTP/1.1\r\nHost: x\r\n\(key)Content-Type: application/json\r\nContent-Length: 33554432\r\n\r\n"
                )
                checked += 1
                do {
                    let status = try await client.readResponse().status
                    if status != expected {
                        mismatches.append("\(operation) as \(caller.rawValue): \(status), expected \(expected)")
                    }
                } catch {
                    mismatches.append("\(operation) as \(caller.rawValue): no answer before the body (\(error))")
                }
            }
        }
        #expect(checked >= 40)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        try await test.stop()
    }
}
