import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// What a newcomer and an operator meet: metrics, upload templates, spreadsheet uploads
/// as spreadsheets write them, and complete exports.
@Suite("Operations", .serialized)
struct OperationsTests {
    // MARK: /metrics

    /// Parses the Prometheus text format: `name{labels} value` lines, comments skipped.
    static func samples(_ text: String) -> [(name: String, labels: [String: String], value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return (String(series), [:], value) }
            var labels: [String: String] = [:]
            let inner = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            for pair in inner.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return (String(series[..<brace]), labels, value)
        }
    }

    @Test func metricsCountRequestsIngestReportsAndThePool() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        for _ in 0..<3 { #expect(try await app.coordinator("GET", "/v1/agendas").status == 200) }
        #expect(try await app.coordinator("GET", "/v1/agendas/nowhere").status == 404)
        let posted = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(), row(period: "2026-04")]))
        #expect(posted.status == 200, "\(posted.text)")
        let refused = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-13")]))
        #expect(refused.status == 422)
        // Asked again, the report is given as kept (once the registry's change notices of the
        // set-up, which arrive asynchronously, have all been heard).
        try await app.waitUntilListening()
        let reports = try await app.askUntilKept("/v1/reports/indicators/esl_learners?by=period")
        #expect(try await app.request("GET", "/no/such/path").status == 404)

        let scrape = try await app.coordinator("GET", "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.header("content-type")?.hasPrefix("text/plain") == true)
        let samples = Self.samples(scrape.text)
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?
                .value
        }
        #expect(value("http_requests_total", ["method": "GET", "route": "/v1/agendas", "status": "200"]) == 3)
        #expect(value("http_requests_total", ["route": "/v1/agendas/{key}", "status": "404"]) == 1)
        #expect(value("http_requests_total", ["route": "unmatched", "status": "404"]) == 1)
        #expect(value("http_request_duration_seconds_count", ["route": "/v1/agendas", "status": "200"]) == 3)
        #expect(
            value("http_request_duration_seconds_bucket", ["route": "/v1/agendas", "status": "200", "le": "+Inf"]) == 3)
        #expect(value("backbone_measurements_ingested_total", ["outcome": "created"]) == 2)
        #expect(value("backbone_measurements_ingested_total", ["outcome": "rejected"]) == 1)
        #expect(value("backbone_reports_total", ["report": "indicator", "source": "kept"]) == 1)
        #expect(value("backbone_reports_total", ["report": "indicator", "source": "computed"]) == Double(reports - 1))
        #expect(value("backbone_report_duration_seconds_count", ["report": "indicator"]) == Double(reports - 1))
        #expect(value("backbone_db_pool_connections", ["state": "in_use"]) != nil)
        #expect(value("backbone_db_pool_connections", ["state": "idle"]) != nil)
        #expect(value("backbone_db_pool_waiting", [:]) == 0)
        #expect(value("backbone_db_pool_size", [:]) == 4)
        #expect(value("backbone_build_info", ["version": BackboneVersion.current]) == 1)
        // Never the secret, nor who called.
        #expect(!scrape.text.contains(app.coordinator))
    }

    // MARK: Templates

    @Test func aTemplateDownloadedFilledAndUploadedHasNoErrors() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let partnerKey = try await app.key(role: "partner", partner: "central-library")
        let template = try await app.request("GET", "/v1/agendas/literacy/template.csv", key: partnerKey)
        #expect(template.status == 200, "\(template.text)")
        #expect(template.header("content-type")?.hasPrefix("text/csv") == true)
        let lines = template.text.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = try #require(lines.first)
        #expect(
            header == [
                "partner", "indicator", "neighborhood", "period", "value", "numerator", "denominator", "dim.age_group",
                "note",
            ])
        // One example row per active indicator; the value is left for the partner.
        let rows = Array(lines.dropFirst())
        #expect(rows.map { $0[1] } == ["esl_learners", "pass_rate", "volunteers"])
        #expect(rows.allSatisfy { $0[0] == "central-library" && $0[4].isEmpty })
        #expect(rows[0][7] == "16-24")

        // Fill in the values and upload the file as it is otherwise.
        var filled = [header.joined(separator: ",")]
        for var row in rows {
            if row[1] == "pass_rate" {
                row[5] = "30"
                row[6] = "40"
            } else {
                row[4] = "12"
            }
            filled.append(row.joined(separator: ","))
        }
        let upload = try await app.request(
            "POST", "/v1/measurements", key: partnerKey, body: Data(filled.joined(separator: "\r\n").utf8),
            contentType: "text/csv")
        #expect(upload.status == 200, "\(upload.text)")
        #expect(upload.json["created"] as? Int == 3)
        #expect((upload.json["errors"] as? [Any])?.isEmpty == true)

        let one = try await app.coordinator("GET", "/v1/indicators/pass_rate/template.csv")
        #expect(one.text.hasPrefix("partner,indicator,neighborhood,period,numerator,denominator,note\r\n,pass_rate,"))
        #expect(try await app.coordinator("GET", "/v1/indicators/nothing/template.csv").status == 404)
        #expect(try await app.coordinator("GET", "/v1/agendas/nothing/template.csv").status == 404)
    }

    // MARK: Spreadsheet uploads

    func upload(_ app: TestApp, _ csv: String, dryRun: Bool = true) async throws -> RawHTTPClient.Response {
        try await app.request(
            "POST", "/v1/measurements\(dryRun ? "?dry_run=true" : "")", key: app.coordinator, body: Data(csv.utf8),
            contentType: "text/csv")
    }

    @Test func spreadsheetQuirksAreReadAndMistakesNamed() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()

        // Trailing empty columns, and headers differing in case and spacing.
        let padded = try await upload(
            app,
            " Partner ,INDICATOR,Neighborhood,period,Value,Dim. Age_Group,,\r\ncentral-library,esl_learners,northside,2026-03,12,25-44,,\r\n"
        )
        #expect(padded.status == 200, "\(padded.text)")
        #expect(padded.json["created"] as? Int == 1)

        // A column named twice is an error, not "the last one wins".
        let twice = try await upload(
            app,
            "partner,indicator,neighborhood,period,value,value\ncentral-library,esl_learners,northside,2026-03,12,13\n")
        #expect(twice.status == 422)
        #expect(twice.fieldErrors.map(\.code) == ["duplicate-column"])

        // Semicolons (a European spreadsheet), with a decimal comma.
        let semicolons = try await upload(
            app,
            "partner;indicator;neighborhood;period;value;dim.age_group\ncentral-library;esl_learners;northside;2026-03;12;25-44\n"
        )
        #expect(semicolons.status == 200, "\(semicolons.text)")
        #expect(semicolons.json["created"] as? Int == 1)
        // Quoted fields of a semicolon-separated file: a semicolon inside quotes is text, and
        // the quote pre-check reads the file by its own separator.
        let quoted = try await upload(
            app,
            "partner;indicator;neighborhood;period;value;dim.age_group;note\ncentral-library;esl_learners;northside;2026-04;\"13\";25-44;\"a; b\"\n"
        )
        #expect(quoted.status == 200, "\(quoted.text)")
        #expect(quoted.json["created"] as? Int == 1)
        // A quote never closed is refused before any row is read, naming the column as the header does.
        let open = try await upload(
            app,
            "Partner;Indicator;Neighborhood;Period;Value;Dim. Age Group;Note\ncentral-library;esl_learners;northside;2026-04;13;25-44;\"open\n"
        )
        #expect(open.status == 400, "\(open.text)")
        #expect(open.json["code"] as? String == "unterminated-quote")
        #expect(open.json["line"] as? Int == 2)
        let openError = try #require((open.json["errors"] as? [[String: Any]])?.first)
        #expect(openError["field"] as? String == "note")
        #expect(openError["row"] as? Int == 1)
        #expect(openError["line"] as? Int == 2)
        // Mixed separators get a hint.
        let mixed = try await upload(app, "partner;indicator,neighborhood\n")
        #expect(mixed.status == 422)
        let hint = (mixed.json["errors"] as? [[String: Any]])?.first?["message"] as? String ?? ""
        #expect(hint.contains("semicolons"))

        // An empty file says so.
        for body in ["", "\u{FEFF}", "\r\n"] {
            let empty = try await upload(app, body)
            #expect(empty.status == 400)
            #expect(empty.json["code"] as? String == "empty-file")
        }

        // Row errors give the spreadsheet line: data row 1 is line 2.
        let bad = try await upload(
            app,
            "partner,indicator,neighborhood,period,value,dim.age_group\ncentral-library,esl_learners,northside,2026-03,12,25-44\ncentral-library,esl_learners,northside,2026-13,12,25-44\n"
        )
        #expect(bad.status == 422)
        let error = try #require((bad.json["errors"] as? [[String: Any]])?.first)
        #expect(error["row"] as? Int == 2)
        #expect(error["line"] as? Int == 3)
    }

    // MARK: Exports

    /// Loads `count` measurements straight into the database (SQL, to save time).
    static func load(_ app: TestApp, count: Int) throws {
        let connection = try Connection(app.conninfo)
        try connection.execute(
            """
            INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, dimension_key, dimensions, batch_id, created_by, created_batch_id, updated_by)
            SELECT 'central-library', 'esl_learners', 'northside',
                   to_char(date '2000-01-01' + make_interval(months => g / 3), 'YYYY-MM'),
                   date '2000-01-01' + make_interval(months => g / 3), g,
                   'age_group=' || (ARRAY['16-24', '25-44', '45+'])[g % 3 + 1],
                   jsonb_build_object('age_group', (ARRAY['16-24', '25-44', '45+'])[g % 3 + 1]),
                   '00000000-0000-0000-0000-000000000001', k.id, '00000000-0000-0000-0000-000000000001', k.id
            FROM generate_series(0, \(count) - 1) AS g, (SELECT id FROM api_keys LIMIT 1) AS k
            """)
    }

    @Test func theCSVExportStreamsEveryRow() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let count = 6_001  // three full chunks of 2000 and one row more
        try Self.load(app, count: count)

        let export = try await app.coordinator("GET", "/v1/measurements?format=csv")
        #expect(export.status == 200)
        #expect(export.header("transfer-encoding") == "chunked")
        #expect(export.header("x-next-cursor") == nil)
        let lines = export.text.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(lines.count == count + 2)  // header, rows, the empty string after the last CRLF
        #expect(
            lines[0]
                == "id,partner,indicator,neighborhood,period,value,numerator,denominator,dim.age_group,note,batch_id,created_at,updated_at"
        )
        let ids = lines.dropFirst().dropLast().map { Int($0.prefix { $0 != "," })! }
        #expect(ids == ids.sorted() && Set(ids).count == count)

        // The stream and a page carry the same cells.
        let page = try await app.coordinator("GET", "/v1/measurements?format=csv&limit=500")
        #expect(page.header("x-next-cursor") != nil)
        #expect(export.text.hasPrefix(page.text))

        // Filters and a cursor apply; bom=true starts with a byte order mark.
        let after = ids[count - 11]
        let tail = try await app.coordinator("GET", "/v1/measurements?format=csv&cursor=\(after)&bom=true")
        #expect(tail.body.prefix(3) == Data([0xEF, 0xBB, 0xBF]))
        #expect(tail.text.split(separator: "\r\n").count == 11)
        #expect(try await app.coordinator("GET", "/v1/measurements?bom=true").status == 400)
        let none = try await app.coordinator("GET", "/v1/measurements?format=csv&neighborhood=southside")
        #expect(
            none.text
                == "id,partner,indicator,neighborhood,period,value,numerator,denominator,note,batch_id,created_at,updated_at\r\n"
        )
    }
}
