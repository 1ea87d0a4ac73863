import BackboneCore
import DataQuality
import DomainModel
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Validation rules in the registry")
struct RuleTests {
    static let rule =
        #"{"id": "young-share", "agenda": "literacy", "name": "Young learners are at most half", "left": "esl_learners[age_group=16-24]", "operator": "<=", "right": "0.5 * esl_learners", "importance": "high"}"#

    /// A problem's errors as (field, code, position).
    static func issues(_ response: RawHTTPClient.Response) -> [String] {
        (response.json["errors"] as? [[String: Any]] ?? []).map {
            "\($0["field"] as? String ?? ""):\($0["code"] as? String ?? ""):\($0["position"] as? Int ?? 0)"
        }
    }

    @Test func createReadListUpdateDeleteAndHistory() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let created = try await app.coordinator("POST", "/v1/rules", json: Self.rule)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.header("location") == "/v1/rules/young-share")
        #expect(created.json["left"] as? String == "esl_learners[age_group=16-24]")
        #expect(created.json["indicators"] as? [String] == ["esl_learners"])
        #expect(created.json["period_type"] as? String == "month")
        #expect(created.json["action"] as? String == "warn")
        #expect(created.json["missing"] as? String == "skip_if_any_missing")
        #expect(created.json["active"] as? Bool == true)
        #expect(created.json["created_at"] is String && created.json["updated_at"] is String)

        let again = try await app.coordinator("POST", "/v1/rules", json: Self.rule)
        #expect(again.status == 409 && again.json["code"] as? String == "already-exists")

        let second = try await app.coordinator(
            "POST", "/v1/rules",
            json:
                #"{"id": "volunteers-with-learners", "agenda": "literacy", "name": "Volunteers come with learners", "left": "volunteers", "operator": "compulsory_pair", "right": "esl_learners", "action": "reject"}"#
        )
        #expect(second.status == 201, "\(second.text)")

        let viewer = try await app.key(role: "viewer")
        let read = try await app.request("GET", "/v1/rules/young-share", key: viewer)
        #expect(read.status == 200 && read.json["name"] as? String == "Young learners are at most half")
        let listed = try await app.request("GET", "/v1/rules?agenda=literacy&limit=1", key: viewer)
        let firstPage = (listed.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(firstPage == ["volunteers-with-learners"])
        let cursor = try #require(listed.json["next_cursor"] as? String)
        let next = try await app.request("GET", "/v1/rules?agenda=literacy&limit=1&cursor=\(cursor)", key: viewer)
        #expect((next.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["young-share"])
        #expect(next.json["next_cursor"] is NSNull)
        #expect(try await app.coordinator("GET", "/v1/rules?colour=red").status == 400)
        #expect(try await app.coordinator("GET", "/v1/rules?active=maybe").status == 400)
        #expect(try await app.coordinator("GET", "/v1/rules/nope").status == 404)

        let patched = try await app.coordinator(
            "PATCH", "/v1/rules/young-share", json: #"{"right": "esl_learners * 0.4", "missing": "never_skip"}"#)
        #expect(patched.status == 200, "\(patched.text)")
        #expect(patched.json["right"] as? String == "esl_learners * 0.4")
        #expect(patched.json["importance"] as? String == "high")
        let unchanged = try await app.coordinator("PATCH", "/v1/rules/young-share", json: "{}")
        #expect(unchanged.status == 200)

        let deleted = try await app.coordinator("DELETE", "/v1/rules/young-share")
        #expect(deleted.status == 200 && deleted.json["active"] as? Bool == false)
        let inactive = try await app.coordinator("GET", "/v1/rules?active=false")
        #expect((inactive.json["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["young-share"])

        let history = try await app.coordinator("GET", "/v1/rules/young-share/history")
        #expect(history.status == 200, "\(history.text)")
        let entries = history.json["items"] as? [[String: Any]] ?? []
        #expect(entries.compactMap { $0["action"] as? String } == ["created", "updated", "deleted"])
        #expect(entries.allSatisfy { $0["key"] is String && $0["at"] is String })
        let rules = entries.compactMap { $0["rule"] as? [String: Any] }
        #expect(
            rules.compactMap { $0["right"] as? String } == [
                "0.5 * esl_learners", "esl_learners * 0.4", "esl_learners * 0.4",
            ])
        #expect(rules.compactMap { $0["active"] as? Bool } == [true, true, false])
        #expect(rules.last?["indicators"] as? [String] == ["esl_learners"])
        let paged = try await app.coordinator("GET", "/v1/rules/young-share/history?limit=2")
        let historyCursor = try #require(paged.json["next_cursor"] as? String)
        let rest = try await app.coordinator("GET", "/v1/rules/young-share/history?cursor=\(historyCursor)")
        #expect((rest.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["deleted"])
        #expect(try await app.coordinator("GET", "/v1/rules/nope/history").status == 404)
        #expect(try app.count("validation_rule_history") == 4)
        try await app.stop()
    }

    @Test func aProblemInAnExpressionNamesTheFieldAndThePosition() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        for (path, body) in [
            ("/v1/agendas", #"{"id": "health", "name": "Health"}"#),
            (
                "/v1/indicators",
                #"{"code": "clinic_visits", "agenda": "health", "name": "Visits", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#
            ),
        ] {
            #expect(try await app.coordinator("POST", path, json: body).status == 201)
        }
        func create(_ left: String, _ right: String = "esl_learners", operator op: String = "<=") async throws
            -> RawHTTPClient.Response
        {
            try await app.coordinator(
                "POST", "/v1/rules",
                json:
                    #"{"id": "r", "agenda": "literacy", "name": "R", "left": "\#(left)", "operator": "\#(op)", "right": "\#(right)"}"#
            )
        }
        let cases: [(String, String, String, [String])] = [
            ("volunteers * esl_learners", "esl_learners", "<=", ["left:invalid-expression:14"]),
            ("volunteers / 2", "esl_learners", "<=", ["left:invalid-expression:12"]),
            ("volunteers[age_group=16-24", "esl_learners", "<=", ["left:invalid-expression:11"]),
            ("", "esl_learners", "<=", ["left:required:0"]),
            ("volunteers", "esl_learners x", "<=", ["right:invalid-expression:14"]),
            ("volunteers + nobody", "esl_learners", "<=", ["left:unknown-indicator:14"]),
            ("esl_learners[sex=f]", "esl_learners", "<=", ["left:unknown-dimension:14"]),
            ("esl_learners[age_group=65+]", "esl_learners", "<=", ["left:unknown-dimension-value:24"]),
            ("volunteers", "2 * clinic_visits", "<=", ["right:other-agenda:5"]),
            ("volunteers", "pass_rate", "<=", ["right:period-type-mismatch:1"]),
            ("volunteers", "retired", "<=", ["right:inactive-indicator:1"]),
            ("volunteers", "100", "compulsory_pair", ["right:pair-needs-indicator:1"]),
            ("1", "2", "<", ["left:no-indicator:1"]),
        ]
        for (left, right, op, expected) in cases {
            let response = try await create(left, right, operator: op)
            #expect(response.status == 422 && response.isProblem, "\(left) \(op) \(right): \(response.text)")
            #expect(Self.issues(response) == expected, "\(left) \(op) \(right): \(response.text)")
        }
        let wrong = try await app.coordinator(
            "POST", "/v1/rules",
            json:
                #"{"id": "Bad Id", "agenda": "literacy", "name": "R", "left": "a", "operator": "=<", "right": "b", "missing": "sometimes", "colour": "red"}"#
        )
        #expect(
            Set(Self.issues(wrong)) == [
                "id:invalid-slug:0", "operator:not-allowed:0", "missing:not-allowed:0", "colour:unknown-field:0",
            ])
        let unknownAgenda = try await app.coordinator(
            "POST", "/v1/rules",
            json: #"{"id": "r", "agenda": "nope", "name": "R", "left": "a", "operator": "<", "right": "b"}"#)
        #expect(Self.issues(unknownAgenda) == ["agenda:unknown-reference:0"])
        let message = try await create("volunteers * esl_learners")
        #expect(
            (message.json["errors"] as? [[String: Any]])?.first?["message"] as? String
                == "multiplies two indicators (volunteers * esl_learners); only a number can multiply an indicator (at character 14)"
        )
        #expect(try app.count("validation_rules") == 0)

        #expect(try await create("volunteers").status == 201)
        let immutable = try await app.coordinator("PATCH", "/v1/rules/r", json: #"{"agenda": "health", "id": "s"}"#)
        #expect(Set(Self.issues(immutable)) == ["agenda:immutable:0", "id:immutable:0"])
        let badPatch = try await app.coordinator("PATCH", "/v1/rules/r", json: #"{"right": "pass_rate"}"#)
        #expect(Self.issues(badPatch) == ["right:period-type-mismatch:1"])
        let blank = try await app.coordinator("PATCH", "/v1/rules/r", json: #"{"name": null, "active": null}"#)
        #expect(Set(Self.issues(blank)) == ["name:required:0", "active:required:0"])
        #expect(try await app.coordinator("PATCH", "/v1/rules/nope", json: #"{"name": "x"}"#).status == 404)
        try await app.stop()
    }

    @Test func anIndicatorAnActiveRuleReadsCannotBeDeactivatedOrMovedFromUnderIt() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(try await app.coordinator("POST", "/v1/rules", json: Self.rule).status == 201)
        let refused = try await app.coordinator("DELETE", "/v1/indicators/esl_learners")
        #expect(refused.status == 409 && refused.isProblem)
        #expect(refused.json["code"] as? String == "indicator-in-rules")
        #expect((refused.json["detail"] as? String)?.contains("young-share") == true, "\(refused.text)")
        let narrowed = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners",
            json: #"{"dimensions": [{"name": "age_group", "values": ["25-44", "45+"]}]}"#)
        #expect(narrowed.status == 409 && narrowed.json["code"] as? String == "indicator-in-rules")
        let widened = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners",
            json: #"{"dimensions": [{"name": "age_group", "values": ["16-24", "25-44", "45+", "65+"]}]}"#)
        #expect(widened.status == 200, "\(widened.text)")
        #expect(try await app.coordinator("DELETE", "/v1/indicators/volunteers").status == 200)

        #expect(try await app.coordinator("DELETE", "/v1/rules/young-share").status == 200)
        let deactivated = try await app.coordinator("DELETE", "/v1/indicators/esl_learners")
        #expect(deactivated.status == 200, "\(deactivated.text)")
        let reactivated = try await app.coordinator("PATCH", "/v1/rules/young-share", json: #"{"active": true}"#)
        #expect(Self.issues(reactivated) == ["left:inactive-indicator:1", "right:inactive-indicator:7"])
        try await app.stop()
    }

    @Test func ingestionFindsTheActiveRulesReadingItsIndicators() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let bodies = [
            Self.rule,
            #"{"id": "pair", "agenda": "literacy", "name": "P", "left": "volunteers", "operator": "exclusive_pair", "right": "2 * esl_learners"}"#,
            #"{"id": "gone", "agenda": "literacy", "name": "G", "left": "volunteers", "operator": ">", "right": "0"}"#,
        ]
        for body in bodies { #expect(try await app.coordinator("POST", "/v1/rules", json: body).status == 201) }
        #expect(try await app.coordinator("DELETE", "/v1/rules/gone").status == 200)
        let connection = try Connection(app.conninfo)
        #expect(try RuleStore.activeRules(connection, readingAny: ["volunteers"]).map(\.id) == ["pair"])
        #expect(
            try RuleStore.activeRules(connection, readingAny: Set(["esl_learners", "volunteers"])).map(\.id) == [
                "pair", "young-share",
            ])
        #expect(try RuleStore.activeRules(connection, readingAny: ["pass_rate"]).isEmpty)
        let stored = try RuleStore.rule(connection, id: "pair")
        #expect(stored.rule.right == RuleExpression(terms: [.init(coefficient: 2, indicator: "esl_learners")]))
        #expect(stored.rule.operator == .exclusivePair && stored.periodType == .month)
        #expect(stored.rule.indicators == ["esl_learners", "volunteers"])
        let passRate = try #require(try IndicatorStore.find(connection, code: "pass_rate"))
        #expect(RuleCell.Combination(passRate) == RuleCell.Combination(method: .ratio, ratioScale: 100))
        try await app.stop()
    }

    /// A rule being written locks the indicators it reads, so a deactivation running at the
    /// same time either waits and sees the rule (409) or goes first and the rule sees it (422).
    @Test func aRuleAndTheDeactivationOfItsIndicatorCannotBothWin() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        var fields = RuleFields()
        (fields.id, fields.agenda, fields.name) = ("r", "literacy", "R")
        (fields.left, fields.operator, fields.right) = ("volunteers", .lessOrEqual, "esl_learners")
        func race(
            first: @escaping @Sendable (Connection) throws -> Void,
            then second: @escaping @Sendable (Connection) throws -> Void
        )
            async throws -> String
        {
            let (one, two) = (try Connection(app.conninfo), try Connection(app.conninfo))
            try one.execute("BEGIN")
            try first(one)
            let waiting = Task.detached { () -> String in
                do {
                    try two.transaction { try second($0) }
                    return "done"
                } catch DomainError.invalid(let issues) {
                    return issues.map(\.code).joined(separator: ", ")
                } catch let error as DomainError {
                    return error.code
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            try one.execute("COMMIT")
            return try await waiting.value
        }
        let createRule: @Sendable (Connection) throws -> Void = { [fields] in
            _ = try RuleStore.create($0, fields, keyID: "test")
        }
        let deactivate: @Sendable (Connection) throws -> Void = {
            _ = try RegistryStore<Indicator>().deactivate($0, key: "esl_learners")
        }
        #expect(try await race(first: createRule, then: deactivate) == "indicator-in-rules")
        #expect(try await app.coordinator("DELETE", "/v1/rules/r").status == 200)
        #expect(try await app.coordinator("DELETE", "/v1/indicators/volunteers").status == 200)
        fields.id = "s"
        fields.left = "2"
        let createOther: @Sendable (Connection) throws -> Void = { [fields] in
            _ = try RuleStore.create($0, fields, keyID: "test")
        }
        #expect(try await race(first: deactivate, then: createOther) == "inactive-indicator")
        try await app.stop()
    }

    @Test func partnersAndViewersReadButDoNotWrite() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(try await app.coordinator("POST", "/v1/rules", json: Self.rule).status == 201)
        let partner = try await app.key(role: "partner", partner: "central-library")
        let viewer = try await app.key(role: "viewer")
        for key in [partner, viewer] {
            #expect(try await app.request("GET", "/v1/rules", key: key).status == 200)
            #expect(try await app.request("GET", "/v1/rules/young-share", key: key).status == 200)
            #expect(try await app.request("POST", "/v1/rules", key: key, json: Self.rule).status == 403)
            #expect(
                try await app.request("PATCH", "/v1/rules/young-share", key: key, json: #"{"name": "x"}"#).status
                    == 403)
            #expect(try await app.request("DELETE", "/v1/rules/young-share", key: key).status == 403)
            #expect(try await app.request("GET", "/v1/rules/young-share/history", key: key).status == 403)
        }
        #expect(try await app.request("GET", "/v1/rules").status == 401)
        try await app.stop()
    }
}
