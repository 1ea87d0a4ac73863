import Aggregation
import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// Partners' voices: what a partner writes is seen by it and the coordinator, and by other
/// partners and viewers only once the coordinator quotes it.
@Suite struct ContributionTests {
    struct Keys {
        let own: String
        let other: String
        let viewer: String
    }

    static func start() async throws -> (TestApp, Keys) {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let keys = Keys(
            own: try await app.key(role: "partner", partner: "central-library"),
            other: try await app.key(role: "partner", partner: "literacy-now"),
            viewer: try await app.key(role: "viewer"))
        return (app, keys)
    }

    static func contribution(_ text: String = "We opened two evening classes.", period: String = "2026-01") -> String {
        #"{"indicator": "esl_learners", "period": "\#(period)", "text": "\#(text)"}"#
    }

    static func ids(_ response: RawHTTPClient.Response) -> [Int] {
        (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
    }

    @Test func nothingAPartnerWritesIsShownToOtherPartnersOrViewersUntilQuoted() async throws {
        let (app, keys) = try await Self.start()
        defer { Task { try await app.stop() } }
        let created = try await app.request("POST", "/v1/contributions", key: keys.own, json: Self.contribution())
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json["partner"] as? String == "central-library" && created.json["quoted"] as? Bool == false)
        #expect(created.json["period"] as? String == "2026-01" && created.header("location") != nil)
        let id = try #require(created.json["id"] as? Int)

        #expect(Self.ids(try await app.request("GET", "/v1/contributions", key: keys.own)) == [id])
        #expect(
            Self.ids(try await app.coordinator("GET", "/v1/contributions?indicator=esl_learners&period=2026-01")) == [
                id
            ])
        #expect(Self.ids(try await app.request("GET", "/v1/contributions", key: keys.other)) == [])
        #expect(
            Self.ids(try await app.request("GET", "/v1/contributions?partner=central-library", key: keys.other)) == [])
        #expect(Self.ids(try await app.request("GET", "/v1/contributions", key: keys.viewer)) == [])
        #expect(try await app.request("GET", "/v1/contributions/\(id)", key: keys.other).status == 404)
        #expect(try await app.request("GET", "/v1/contributions/\(id)", key: keys.viewer).status == 404)
        #expect(try await app.request("GET", "/v1/contributions/\(id)", key: keys.own).status == 200)
        #expect(
            try await app.request("PATCH", "/v1/contributions/\(id)", key: keys.other, json: #"{"text": "x"}"#).status
                == 404)
        #expect(try await app.request("DELETE", "/v1/contributions/\(id)", key: keys.other).status == 404)
        let period = try #require(Period("2026-01"))
        #expect(
            try Contributions.quoted(try Connection(app.conninfo), indicator: "esl_learners", period: period).isEmpty)

        let quoted = try await app.coordinator("PATCH", "/v1/contributions/\(id)", json: #"{"quoted": true}"#)
        #expect(quoted.status == 200 && quoted.json["quoted"] as? Bool == true, "\(quoted.text)")
        #expect(Self.ids(try await app.request("GET", "/v1/contributions", key: keys.other)) == [id])
        #expect(Self.ids(try await app.request("GET", "/v1/contributions?quoted=true", key: keys.viewer)) == [id])
        #expect(Self.ids(try await app.request("GET", "/v1/contributions?quoted=false", key: keys.viewer)) == [])
        #expect(try await app.request("GET", "/v1/contributions/\(id)", key: keys.viewer).status == 200)
        // Seen, but still not theirs to change.
        #expect(
            try await app.request("PATCH", "/v1/contributions/\(id)", key: keys.other, json: #"{"text": "x"}"#).status
                == 403)
        #expect(
            try await app.request("PATCH", "/v1/contributions/\(id)", key: keys.viewer, json: #"{"text": "x"}"#).status
                == 403)
        let inPacket = try Contributions.quoted(try Connection(app.conninfo), indicator: "esl_learners", period: period)
        #expect(inPacket.map(\.id) == [id] && inPacket.first?.partner == "central-library")
    }

    @Test func aPartnerChangingItsWordsUnquotesThemAndOnlyTheCoordinatorQuotes() async throws {
        let (app, keys) = try await Self.start()
        defer { Task { try await app.stop() } }
        let id = try #require(
            try await app.request("POST", "/v1/contributions", key: keys.own, json: Self.contribution()).json["id"]
                as? Int)
        let path = "/v1/contributions/\(id)"
        #expect(try await app.request("PATCH", path, key: keys.own, json: #"{"quoted": true}"#).status == 403)
        #expect(try await app.coordinator("PATCH", path, json: #"{"text": "Better words"}"#).status == 403)
        #expect(try await app.coordinator("PATCH", path, json: #"{"quoted": true}"#).json["quoted"] as? Bool == true)

        // The same words again change nothing; new words need quoting again.
        let same = try await app.request(
            "PATCH", path, key: keys.own, json: #"{"text": "We opened two evening classes."}"#)
        #expect(same.status == 200 && same.json["quoted"] as? Bool == true, "\(same.text)")
        let changed = try await app.request(
            "PATCH", path, key: keys.own, json: #"{"text": "We opened three classes."}"#)
        #expect(changed.status == 200 && changed.json["quoted"] as? Bool == false, "\(changed.text)")
        #expect(changed.json["text"] as? String == "We opened three classes.")
        #expect(Self.ids(try await app.request("GET", "/v1/contributions", key: keys.viewer)) == [])

        let empty = try await app.request("PATCH", path, key: keys.own, json: #"{}"#)
        #expect(empty.status == 422 && empty.isProblem)
        let blank = try await app.request("PATCH", path, key: keys.own, json: #"{"text": "  "}"#)
        #expect(blank.status == 422 && blank.fieldErrors.map(\.field) == ["text"], "\(blank.text)")
        let typo = try await app.coordinator("PATCH", path, json: #"{"quote": true}"#)
        #expect(typo.status == 422 && typo.fieldErrors.map(\.field) == ["quote"], "\(typo.text)")
    }

    @Test func aPartnerOrTheCoordinatorWithdrawsAContribution() async throws {
        let (app, keys) = try await Self.start()
        defer { Task { try await app.stop() } }
        var ids: [Int] = []
        for text in ["first", "second"] {
            ids.append(
                try #require(
                    try await app.request("POST", "/v1/contributions", key: keys.own, json: Self.contribution(text))
                        .json["id"] as? Int))
        }
        #expect(try await app.request("DELETE", "/v1/contributions/\(ids[0])", key: keys.viewer).status == 403)
        #expect(try await app.request("DELETE", "/v1/contributions/\(ids[0])", key: keys.own).status == 204)
        #expect(try await app.coordinator("DELETE", "/v1/contributions/\(ids[1])").status == 204)
        #expect(Self.ids(try await app.coordinator("GET", "/v1/contributions")) == [])
        #expect(try await app.request("GET", "/v1/contributions/\(ids[0])", key: keys.own).status == 404)
        #expect(try await app.request("DELETE", "/v1/contributions/\(ids[0])", key: keys.own).status == 404)
    }

    @Test func onlyAPartnerKeyWritesAndWhatIsRefusedNamesItsField() async throws {
        let (app, keys) = try await Self.start()
        defer { Task { try await app.stop() } }
        #expect(try await app.coordinator("POST", "/v1/contributions", json: Self.contribution()).status == 403)
        #expect(
            try await app.request("POST", "/v1/contributions", key: keys.viewer, json: Self.contribution()).status
                == 403)
        let long = String(repeating: "b", count: 2001)
        let cases: [(String, String)] = [
            (Self.contribution(long), "text"),
            (Self.contribution(" "), "text"),
            (#"{"indicator": "no_such", "period": "2026-01", "text": "x"}"#, "indicator"),
            (#"{"indicator": "retired", "period": "2026-01", "text": "x"}"#, "indicator"),
            (Self.contribution(period: "2026-Q1"), "period"),
            (Self.contribution(period: "2999-01"), "period"),
            (Self.contribution(period: "soon"), "period"),
            (#"{"indicator": "esl_learners", "period": "2026-01", "text": "x", "partner": "literacy-now"}"#, "partner"),
        ]
        for (body, field) in cases {
            let response = try await app.request("POST", "/v1/contributions", key: keys.own, json: body)
            #expect(
                response.status == 422 && response.fieldErrors.map(\.field) == [field],
                "\(body.prefix(80)): \(response.text)")
        }
        #expect(try app.count("contributions") == 0)
        let atLimit = String(repeating: "ü", count: 2000)
        #expect(
            try await app.request("POST", "/v1/contributions", key: keys.own, json: Self.contribution(atLimit)).status
                == 201)
        #expect(try await app.coordinator("GET", "/v1/contributions?quoted=maybe").status == 400)
        #expect(try await app.coordinator("GET", "/v1/contributions?partners=x").status == 400)
    }
}
