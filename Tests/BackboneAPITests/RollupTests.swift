import Foundation
import Postgres
import PropertyBased
import TestSupport
import Testing

/// Rollups and each stock series' latest are kept by triggers; they must always equal what
/// the measurements give.
@Suite("Rollups stay equal to the raw measurements")
struct RollupTests {
    /// The rollups recomputed from scratch (by functions.sql's rollup_cells, the aggregate
    /// the triggers use), and as stored, as comparable text rows.
    static func compare(_ connection: Connection) throws -> (expected: [String], stored: [String]) {
        func rows(_ source: Query) throws -> [String] {
            try connection.query(
                """
                SELECT indicator_code || ' ' || period || ' ' || neighborhood_code || ' ' || dimension_key || ' ' || measurements || ' '
                       || (SELECT string_agg(n, ',' ORDER BY n::int) FROM unnest(string_to_array(partner_list, ',')) AS n) || ' '
                       || round(sum_value::numeric, 6) || ' ' || round(sum_numerator::numeric, 6) || ' '
                       || round(sum_denominator::numeric, 6) || ' ' || round(min_value::numeric, 6) || ' ' || round(max_value::numeric, 6)
                FROM \(source) AS r ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
        }
        return (try rows("rollup_cells(ARRAY(SELECT m FROM measurements m))"), try rows("measurement_rollups"))
    }

    /// Each stock series' latest measurement chosen from scratch (by functions.sql's
    /// latest_of_series, which the triggers use), and as stored in series_latest.
    static func compareSeriesLatest(_ connection: Connection) throws -> (expected: [String], stored: [String]) {
        func rows(_ source: Query) throws -> [String] {
            try connection.query(
                """
                SELECT concat_ws(' ', indicator_code, partner_id, neighborhood_code, dimension_key, period_start, period,
                                 dimensions::text, value, numerator, denominator)
                FROM \(source) AS s ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
        }
        return (try rows("latest_of_series(ARRAY(SELECT m FROM measurements m))"), try rows("series_latest"))
    }

    enum Operation: Sendable, CustomStringConvertible {
        case submit(partner: Int, neighborhood: Int, month: Int, group: Int, value: Int)
        case ratio(partner: Int, neighborhood: Int, quarter: Int, numerator: Int, denominator: Int)
        case retract(pick: Int)
        case stock(partner: Int, neighborhood: Int, month: Int, value: Int)

        var description: String {
            switch self {
            case .submit(let p, let n, let m, let g, let v): return "submit(p\(p) n\(n) m\(m) g\(g) = \(v))"
            case .ratio(let p, let n, let q, let a, let b): return "ratio(p\(p) n\(n) q\(q) \(a)/\(b))"
            case .retract(let pick): return "retract(\(pick))"
            case .stock(let p, let n, let m, let v): return "stock(p\(p) n\(n) m\(m) = \(v))"
            }
        }
    }

    /// Decodes one random number into an operation, so the generator stays a plain integer array.
    static func operation(_ seed: Int) -> Operation {
        var rest = seed
        func take(_ count: Int) -> Int {
            defer { rest /= count }
            return rest % count
        }
        switch take(4) {
        case 0:
            return .submit(partner: take(2), neighborhood: take(3), month: take(3) + 1, group: take(3), value: take(21))
        case 1:
            return .ratio(
                partner: take(2), neighborhood: take(3), quarter: take(2) + 1, numerator: take(11),
                denominator: take(11) + 10)
        case 2: return .stock(partner: take(2), neighborhood: take(3), month: take(4) + 1, value: take(21))
        default: return .retract(pick: take(51))
        }
    }

    /// Three writers changing measurements of one rollup cell, or of one stock series, at
    /// once: the first holds the cell's (the series') lock while the other two wait for it.
    /// Each must then lock the recomputed row in turn; a row deleted and inserted again let
    /// the third through unlocked, and it failed on a duplicate key.
    @Test func writersWaitingForOneCellRecomputeItInTurn() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let third = try await app.coordinator(
            "POST", "/v1/partners", json: #"{"id": "third-partner", "name": "Third", "kind": "other"}"#)
        #expect(third.status == 201, "\(third.text)")
        // One cell: three partners in January; one series: central-library in January to March.
        let rows = [
            ("central-library", "2025-01"), ("literacy-now", "2025-01"), ("third-partner", "2025-01"),
            ("central-library", "2025-02"), ("central-library", "2025-03"),
        ]
        let items = rows.map {
            #"{"partner": "\#($0.0)", "indicator": "volunteers", "neighborhood": "northside", "period": "\#($0.1)", "value": 5}"#
        }
        let created = try await app.coordinator(
            "POST", "/v1/measurements", json: #"{"measurements": [\#(items.joined(separator: ","))]}"#)
        #expect(created.status == 200 || created.status == 201, "\(created.text)")
        let connection = try Connection(app.conninfo)
        func id(_ partner: String, _ period: String) throws -> Int {
            try connection.query("SELECT id FROM measurements WHERE partner_id = \(partner) AND period = \(period)")[0]
                .decode(Int.self, at: 0)
        }
        let groups = [
            [
                try id("central-library", "2025-01"), try id("literacy-now", "2025-01"),
                try id("third-partner", "2025-01"),
            ],
            [
                try id("central-library", "2025-03"), try id("central-library", "2025-02"),
                try id("central-library", "2025-01"),
            ],
        ]
        for (round, ids) in groups.enumerated() {
            let first = try Connection(app.conninfo)
            try first.execute("BEGIN")
            try first.execute(
                round == 0
                    ? "UPDATE measurements SET value = 7 WHERE id = \(ids[0])"
                    : "DELETE FROM measurements WHERE id = \(ids[0])")
            let failures = Failures()
            let waiting = DispatchGroup()
            for id in ids.dropFirst() {
                DispatchQueue.global().async(group: waiting) { [conninfo = app.conninfo] in
                    do {
                        try Connection(conninfo).execute("UPDATE measurements SET value = value + 1 WHERE id = \(id)")
                    } catch { failures.add(error) }
                }
            }
            // Both wait for the first writer's locks before it commits.
            var waiters = 0
            for _ in 0..<200 where waiters < 2 {
                waiters = try connection.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )[0].decode(Int.self, at: 0)
                if waiters < 2 { usleep(20_000) }
            }
            #expect(waiters == 2)
            try first.execute("COMMIT")
            waiting.wait()
            #expect(failures.errors.isEmpty, "\(failures.errors)")
            let (expected, stored) = try Self.compare(connection)
            #expect(stored == expected)
            let (expectedLatest, storedLatest) = try Self.compareSeriesLatest(connection)
            #expect(storedLatest == expectedLatest)
        }
        try await app.stop()
    }

    /// The triggers recompute the cells and series a changed row was in, not where it
    /// went: so a measurement's period and dimensions, like its references, never change
    /// (a correction rewrites values only). Moving one from SQL is refused, and the
    /// rollups and series stay equal to the measurements.
    @Test func aMeasurementsPeriodAndDimensionsCannotMove() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let rows = [
            row(period: "2025-01"),
            #"{"partner": "central-library", "indicator": "volunteers", "neighborhood": "northside", "period": "2025-01", "value": 5}"#,
        ]
        let created = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        #expect(created.status == 200, "\(created.text)")
        let connection = try Connection(app.conninfo)
        let moves = [
            "UPDATE measurements SET period = '2025-03', period_start = '2025-03-01' WHERE indicator_code = 'volunteers'",
            "UPDATE measurements SET period = '2025-03', period_start = '2025-03-01' WHERE indicator_code = 'esl_learners'",
            #"UPDATE measurements SET dimension_key = '{"age_group":"45+"}', dimensions = '{"age_group": "45+"}' WHERE indicator_code = 'esl_learners'"#,
        ]
        for move in moves {
            let error = #expect(throws: PostgresError.self, "\(move)") { try connection.execute(move) }
            #expect(error?.constraint == "measurement_cell", "\(move)")
        }
        let (expected, stored) = try Self.compare(connection)
        #expect(stored == expected)
        let (expectedLatest, storedLatest) = try Self.compareSeriesLatest(connection)
        #expect(storedLatest == expectedLatest)
        // A correction of values only still goes through.
        try connection.execute("UPDATE measurements SET value = 6 WHERE indicator_code = 'volunteers'")
        #expect(try Self.compareSeriesLatest(connection).stored == Self.compareSeriesLatest(connection).expected)
        try await app.stop()
    }

    /// Two connections changing one stock series at once, each of the first's changes
    /// held open while the second waits on it: retracting the series' only measurement
    /// while another adds a later one, retracting both of its measurements at once, and
    /// correcting its latest while another retracts it. After each, series_latest
    /// equals a fresh computation, and so does the stock report. (Then two inserts that
    /// start the series again at once.)
    @Test func concurrentChangesOfOneStockSeries() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let connection = try Connection(app.conninfo)
        func stock(_ period: String) -> String {
            #"{"partner": "central-library", "indicator": "volunteers", "neighborhood": "northside", "period": "\#(period)", "value": \#(period.suffix(1))}"#
        }
        func id(_ period: String) throws -> Int {
            try connection.query(
                "SELECT id FROM measurements WHERE indicator_code = 'volunteers' AND period = \(period)")[0].decode(
                    Int.self, at: 0)
        }
        let insert = { (period: String) in
            """
            INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, batch_id, updated_by)
            VALUES ('central-library', 'volunteers', 'northside', '\(period)', '\(period)-01', 9, gen_random_uuid(), 'sql')
            """
        }
        let created = try await app.coordinator("POST", "/v1/measurements", json: batch([stock("2025-01")]))
        #expect(created.status == 200, "\(created.text)")
        // Each round is built from the state the previous one left.
        let steps: [() throws -> (String, String)] = [
            { ("DELETE FROM measurements WHERE id = \(try id("2025-01"))", insert("2025-02")) },
            { (insert("2025-03"), "DELETE FROM measurements WHERE id = \(try id("2025-02"))") },
            {
                (
                    "UPDATE measurements SET value = 4 WHERE id = \(try id("2025-03"))",
                    "DELETE FROM measurements WHERE id = \(try id("2025-03"))"
                )
            },
            { (insert("2025-05"), insert("2025-04")) },
        ]
        for (index, step) in steps.enumerated() {
            let (first, second) = try step()
            let holder = try Connection(app.conninfo)
            try holder.execute("BEGIN")
            try holder.execute(first)
            let failures = Failures()
            let done = DispatchGroup()
            DispatchQueue.global().async(group: done) { [conninfo = app.conninfo] in
                do { try Connection(conninfo).execute(second) } catch { failures.add(error) }
            }
            var waiting = 0
            for _ in 0..<100 where waiting < 1 {
                waiting = try connection.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )[0].decode(Int.self, at: 0)
                if waiting < 1 { usleep(20_000) }
            }
            #expect(waiting == 1, "step \(index): the second writer never waited for the first")
            try holder.execute("COMMIT")
            done.wait()
            #expect(failures.errors.isEmpty, "step \(index): \(failures.errors)")
            let (expected, stored) = try Self.compareSeriesLatest(connection)
            #expect(stored == expected, "step \(index)")
            let (expectedCells, storedCells) = try Self.compare(connection)
            #expect(storedCells == expectedCells, "step \(index)")
            let latest = try connection.query(
                "SELECT max(period) FROM measurements WHERE indicator_code = 'volunteers'")[0].decode(
                    String?.self, at: 0)
            let report = try await app.coordinator("GET", "/v1/reports/indicators/volunteers?from=2025-01&to=2025-12")
            let total = (report.json["total"] as? [String: Any])?["value"]
            let value = try latest.map {
                try connection.query(
                    "SELECT value FROM measurements WHERE indicator_code = 'volunteers' AND period = \($0)")[0].decode(
                        Double.self, at: 0)
            }
            #expect((total as? NSNumber)?.doubleValue == value, "step \(index): \(report.text)")
        }
        try await app.stop()
    }

    /// Errors of the writers on other threads.
    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        var errors: [String] { lock.withLock { list } }
        func add(_ error: Error) { lock.withLock { list.append("\(error)") } }
    }

    @Test func anySequenceOfInsertsUpdatesAndRetractions() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let partners = ["central-library", "literacy-now"]
        let neighborhoods = ["northside", "southside", "city"]
        let groups = ["16-24", "25-44", "45+"]
        await propertyCheck(count: 12, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...25)) { seeds in
            let operations = seeds.map(Self.operation)
            do {
                for operation in operations {
                    switch operation {
                    case .submit(let p, let n, let m, let g, let v):
                        let body =
                            #"{"partner": "\#(partners[p])", "indicator": "esl_learners", "neighborhood": "\#(neighborhoods[n])", "period": "2025-0\#(m)", "value": \#(v), "dimensions": {"age_group": "\#(groups[g])"}}"#
                        _ = try await app.coordinator("POST", "/v1/measurements", json: body)
                    case .ratio(let p, let n, let q, let a, let b):
                        let body =
                            #"{"partner": "\#(partners[p])", "indicator": "pass_rate", "neighborhood": "\#(neighborhoods[n])", "period": "2025-Q\#(q)", "numerator": \#(a), "denominator": \#(b)}"#
                        _ = try await app.coordinator("POST", "/v1/measurements", json: body)
                    case .stock(let p, let n, let m, let v):
                        let body =
                            #"{"partner": "\#(partners[p])", "indicator": "volunteers", "neighborhood": "\#(neighborhoods[n])", "period": "2025-0\#(m)", "value": \#(v)}"#
                        _ = try await app.coordinator("POST", "/v1/measurements", json: body)
                    case .retract(let pick):
                        let connection = try Connection(app.conninfo)
                        let ids = try connection.query("SELECT id FROM measurements ORDER BY id").map {
                            try $0.decode(Int.self, at: 0)
                        }
                        if !ids.isEmpty {
                            _ = try await app.coordinator("DELETE", "/v1/measurements/\(ids[pick % ids.count])")
                        }
                    }
                }
                let connection = try Connection(app.conninfo)
                let (expected, stored) = try Self.compare(connection)
                #expect(stored == expected, "after \(operations)")
                let (expectedLatest, storedLatest) = try Self.compareSeriesLatest(connection)
                #expect(storedLatest == expectedLatest, "series' latest after \(operations)")
            } catch {
                Issue.record(error)
            }
        }
        try await app.stop()
    }
}
