import Foundation
import Postgres
import TestSupport
import Testing

/// Random deployments through HTTP, every report shape compared with a plain model of the
/// aggregation rules computed here from what was stored (docs/domain.md#aggregation-methods).
@Suite("Reports against a plain model")
struct DifferentialReportTests {
    /// city → d1 (l1, l2), d2 (l3): measurements land on every depth.
    static let parents: [String: String?] = [
        "city": nil, "d1": "city", "d2": "city", "l1": "d1", "l2": "d1", "l3": "d2",
    ]
    static let neighborhoods = ["city", "d1", "d2", "l1", "l2", "l3"]
    static let partners = ["p0", "p1", "p2", "p3"]
    static let months = (1...6).map { String(format: "2025-%02d", $0) }
    static let methods = ["sum", "mean", "ratio", "last", "min", "max"]
    static let groups = ["a", "b"]

    /// One stored measurement, keyed like the service's natural key.
    struct Stored {
        var partner: String
        var indicator: String
        var neighborhood: String
        var month: String
        var group: String
        var value: Double
        var denominator: Double
        var key: String { [partner, indicator, neighborhood, month, group].joined(separator: "|") }
    }

    /// A deterministic generator, so a failure names a seed that reproduces it.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ upper: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(upper))
        }
    }

    @Test(arguments: [1, 2, 3])
    func everyReportShapeMatchesThePlainModel(seed: Int) async throws {
        let app = try await TestApp.start()
        defer { Task { try? await app.stop() } }
        try await Self.seedRegistry(app)
        var random = SplitMix(state: UInt64(seed))
        var stored: [String: Stored] = [:]
        // Submissions, then corrections of some, then retractions of others.
        for round in 0..<3 {
            var rows: [Stored] = []
            var seen = Set<String>()
            for _ in 0..<60 {
                let method = Self.methods[random.next(Self.methods.count)]
                var row = Stored(
                    partner: Self.partners[random.next(4)], indicator: "m_\(method)",
                    neighborhood: Self.neighborhoods[random.next(6)],
                    month: Self.months[random.next(6)], group: Self.groups[random.next(2)],
                    value: Double(random.next(50)),
                    denominator: 0)
                if method == "ratio" { row.denominator = row.value + Double(1 + random.next(20)) }
                if round > 0,
                    let existing = stored.values.sorted(by: { $0.key < $1.key }).dropFirst(
                        random.next(max(stored.count, 1))
                    ).first
                {
                    row = existing
                    row.value = Double(random.next(50))
                    if row.denominator > 0 { row.denominator = row.value + Double(1 + random.next(20)) }
                }
                guard seen.insert(row.key).inserted else { continue }
                rows.append(row)
            }
            let response = try await app.coordinator("POST", "/v1/measurements", json: Self.batch(rows))
            #expect(response.status == 200, "\(response.text)")
            for row in rows { stored[row.key] = row }
            if round == 2 { try await Self.retractSome(app, &stored, &random) }
        }

        var compared = 0
        for method in Self.methods {
            for shape in Self.shapes(method: method) {
                let response = try await app.coordinator("GET", "/v1/reports/indicators/m_\(method)?\(shape.query)")
                #expect(response.status == 200, "\(shape.query): \(response.text)")
                let expected = Self.model(
                    Array(stored.values.filter { $0.indicator == "m_\(method)" }), method: method, shape: shape)
                var actual: [String: Double?] = [:]
                for row in response.json["rows"] as? [[String: Any]] ?? [] {
                    actual.updateValue((row["value"] as? NSNumber)?.doubleValue, forKey: Self.rowKey(row, shape: shape))
                }
                let total = response.json["total"] as? [String: Any]
                actual.updateValue((total?["value"] as? NSNumber)?.doubleValue, forKey: "total")
                #expect(Set(actual.keys) == Set(expected.keys), "seed \(seed) m_\(method)?\(shape.query): rows differ")
                for (key, value) in expected {
                    compared += 1
                    #expect(
                        Self.close(actual[key] ?? nil, value),
                        "seed \(seed) m_\(method)?\(shape.query) [\(key)]: \(String(describing: actual[key] ?? nil)) ≠ \(String(describing: value))"
                    )
                }
            }
        }
        print("differential seed \(seed): \(compared) report cells compared")
        #expect(compared > 500)
    }

    /// The issue's two reproductions, as fixed cases.
    @Test func stocksOverARangeAndTotalsAcrossLevels() async throws {
        let app = try await TestApp.start()
        defer { Task { try? await app.stop() } }
        try await Self.seedRegistry(app)
        func post(_ rows: [(String, String, String, Double)], _ indicator: String) async throws {
            let stored = rows.map {
                Stored(
                    partner: $0.0, indicator: indicator, neighborhood: $0.1, month: $0.2, group: "a", value: $0.3,
                    denominator: 0)
            }
            let response = try await app.coordinator("POST", "/v1/measurements", json: Self.batch(stored))
            #expect(response.status == 200, "\(response.text)")
        }
        // pa: l1 10, 12; pb: l1 5, 7; pc: l3 4. Each series' latest: l1 = 12 + 7, l3 = 4, total 23.
        try await post(
            [
                ("p0", "l1", "2025-01", 10), ("p0", "l1", "2025-02", 12), ("p1", "l1", "2025-02", 5),
                ("p1", "l1", "2025-03", 7), ("p2", "l3", "2025-01", 4),
            ], "m_last")
        for query in [
            "by=neighborhood&from=2025-01&to=2025-03", "from=2025-01&to=2025-03", "by=period&from=2025-01&to=2025-03",
            "by=partner&from=2025-01&to=2025-03", "by=neighborhood&period=2025-Q1",
        ] {
            let response = try await app.coordinator("GET", "/v1/reports/indicators/m_last?\(query)")
            let total = response.json["total"] as? [String: Any]
            #expect((total?["value"] as? NSNumber)?.doubleValue == 23, "\(query): \(response.text)")
            if query.hasPrefix("by=neighborhood") {
                let values = (response.json["rows"] as? [[String: Any]] ?? []).map {
                    ($0["neighborhood"] as? String ?? "", ($0["value"] as? NSNumber)?.doubleValue)
                }
                #expect(values.map(\.0) == ["l1", "l3"] && values.map(\.1) == [19, 4], "\(query)")
            }
        }
        // p0 reports 10 for leaf l1, p1 reports 5 for l1's district d1: the total is 15 at every level.
        try await post([("p0", "l1", "2025-01", 10), ("p1", "d1", "2025-01", 5)], "m_sum")
        for level in ["", "&level=0", "&level=1", "&level=2"] {
            let response = try await app.coordinator("GET", "/v1/reports/indicators/m_sum?by=neighborhood\(level)")
            let total = response.json["total"] as? [String: Any]
            #expect((total?["value"] as? NSNumber)?.doubleValue == 15, "level\(level): \(response.text)")
        }
        let deep = try await app.coordinator("GET", "/v1/reports/indicators/m_sum?by=neighborhood&level=2")
        let rows = deep.json["rows"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["neighborhood"] as? String } == ["d1", "l1"])
        #expect(rows.map { $0["reported_above"] as? Bool } == [true, false])
    }

    /// A range that reaches a stock's latest data reads each series' latest as the write
    /// triggers keep it (series_latest); a correction or a retraction of a series' latest
    /// measurement changes it, and a range ending earlier still stands on the range's own.
    @Test func stockTotalsFollowCorrectionsAndRetractionsOfTheLatest() async throws {
        let app = try await TestApp.start()
        defer { Task { try? await app.stop() } }
        try await Self.seedRegistry(app)
        func post(_ rows: [(String, String, String, Double)]) async throws {
            let stored = rows.map {
                Stored(
                    partner: $0.0, indicator: "m_last", neighborhood: $0.1, month: $0.2, group: "a", value: $0.3,
                    denominator: 0)
            }
            let response = try await app.coordinator("POST", "/v1/measurements", json: Self.batch(stored))
            #expect(response.status == 200, "\(response.text)")
        }
        func totals(_ queries: [String]) async throws -> [Double?] {
            var values: [Double?] = []
            for query in queries {
                let response = try await app.coordinator("GET", "/v1/reports/indicators/m_last?\(query)")
                #expect(response.status == 200, "\(query): \(response.text)")
                values.append(((response.json["total"] as? [String: Any])?["value"] as? NSNumber)?.doubleValue)
            }
            return values
        }
        let queries = [
            "from=2025-01&to=2025-03", "by=neighborhood&from=2025-02&to=2025-06", "from=2025-03&to=2025-04",
            "from=2025-01&to=2025-02",
        ]
        // p0 l1: 10, 12, 15; p1 l1: 5 in February; p2 l3: 4 in March.
        try await post([
            ("p0", "l1", "2025-01", 10), ("p0", "l1", "2025-03", 15), ("p0", "l1", "2025-02", 12),
            ("p1", "l1", "2025-02", 5), ("p2", "l3", "2025-03", 4),
        ])
        #expect(try await totals(queries) == [24, 24, 19, 17])
        // A correction of p0's latest.
        try await post([("p0", "l1", "2025-03", 20)])
        #expect(try await totals(queries) == [29, 29, 24, 17])
        // Its retraction: p0's latest falls back to February.
        let listed = try await app.coordinator("GET", "/v1/measurements?indicator=m_last&partner=p0&period=2025-03")
        let id = try #require((listed.json["items"] as? [[String: Any]])?.first?["id"] as? Int, "\(listed.text)")
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 204)
        #expect(try await totals(queries) == [21, 21, 4, 17])
        // A correction of a measurement that is no longer any series' latest changes only ranges ending with it.
        try await post([("p0", "l1", "2025-01", 1), ("p0", "l1", "2025-02", 2)])
        #expect(try await totals(queries + ["from=2025-01&to=2025-01"]) == [11, 11, 4, 7, 1])
        let connection = try Connection(app.conninfo)
        let (expected, stored) = try RollupTests.compareSeriesLatest(connection)
        #expect(stored == expected && stored.count == 3, "\(stored)")
    }

    // MARK: The deployment

    static func seedRegistry(_ app: TestApp) async throws {
        var bodies = [("/v1/agendas", #"{"id": "diff", "name": "Differential", "starts_on": "2024-01-01"}"#)]
        for method in methods {
            let valueType = method == "ratio" ? "percent" : method == "mean" ? "score" : "count"
            bodies.append(
                (
                    "/v1/indicators",
                    #"{"code": "m_\#(method)", "agenda": "diff", "name": "\#(method)", "value_type": "\#(valueType)", "aggregation": "\#(method)", "period_type": "month", "dimensions": [{"name": "age_group", "values": ["a", "b"]}]}"#
                ))
        }
        for code in neighborhoods {
            let parent = parents[code]!.map { #", "parent": "\#($0)""# } ?? ""
            bodies.append(
                ("/v1/neighborhoods", #"{"code": "\#(code)", "name": "\#(code)", "population": 1000\#(parent)}"#))
        }
        for partner in partners {
            bodies.append(("/v1/partners", #"{"id": "\#(partner)", "name": "\#(partner)", "kind": "nonprofit"}"#))
        }
        for (path, body) in bodies {
            let response = try await app.coordinator("POST", path, json: body)
            guard response.status == 201 else {
                throw RawHTTPClient.Failure(description: "\(path): \(response.status) \(response.text)")
            }
        }
    }

    static func batch(_ rows: [Stored]) -> String {
        let items = rows.map { row -> String in
            let number =
                row.denominator > 0
                ? #""numerator": \#(row.value), "denominator": \#(row.denominator)"# : #""value": \#(row.value)"#
            return
                #"{"partner": "\#(row.partner)", "indicator": "\#(row.indicator)", "neighborhood": "\#(row.neighborhood)", "period": "\#(row.month)", \#(number), "dimensions": {"age_group": "\#(row.group)"}}"#
        }
        return #"{"measurements": [\#(items.joined(separator: ","))]}"#
    }

    static func retractSome(_ app: TestApp, _ stored: inout [String: Stored], _ random: inout SplitMix) async throws {
        let listed =
            try await app.coordinator("GET", "/v1/measurements?limit=1000").json["items"] as? [[String: Any]] ?? []
        for item in listed where random.next(8) == 0 {
            guard let id = item["id"] as? Int else { continue }
            let key =
                [item["partner"], item["indicator"], item["neighborhood"], item["period"]].map { $0 as? String ?? "" }
                + [(item["dimensions"] as? [String: String])?["age_group"] ?? ""]
            let response = try await app.coordinator("DELETE", "/v1/measurements/\(id)")
            #expect(response.status == 204, "\(response.text)")
            stored[key.joined(separator: "|")] = nil
        }
    }

    // MARK: The shapes and the model

    struct Shape {
        var by: [String]
        var level: Int?
        var within: String?
        /// The months selected, and the period type rows are grouped by.
        var months: [String]
        var quarters: Bool
        var query: String
    }

    static func shapes(method: String) -> [Shape] {
        let groupings: [[String]] = [
            [], ["neighborhood"], ["period"], ["partner"], ["dimension:age_group"], ["neighborhood", "period"],
            ["partner", "neighborhood"], ["dimension:age_group", "period"],
        ]
        let ranges: [(String, [String], Bool)] = [
            ("from=2025-01&to=2025-06", months, false), ("from=2025-02&to=2025-05", Array(months[1...4]), false),
            ("period=2025-Q1", Array(months[0...2]), false), ("period=2025-03", ["2025-03"], false),
            ("from=2025-01&to=2025-06&period_type=quarter", months, true),
        ]
        var shapes: [Shape] = []
        for by in groupings {
            for (range, selected, quarters) in ranges {
                for level in [nil, 0, 1, 2] as [Int?] where level == nil || by.contains("neighborhood") {
                    for within in [nil, "d1"] as [String?] where level == nil || within == nil || level! >= 1 {
                        var query = range
                        if !by.isEmpty { query += "&by=" + by.joined(separator: ",") }
                        if let level { query += "&level=\(level)" }
                        if let within { query += "&within=\(within)" }
                        shapes.append(
                            Shape(
                                by: by, level: level, within: within, months: selected, quarters: quarters, query: query
                            ))
                    }
                }
            }
        }
        return shapes
    }

    static func depth(_ code: String) -> Int {
        var depth = 0
        var current = code
        while let parent = parents[current] ?? nil { depth += 1; current = parent }
        return depth
    }

    static func isWithin(_ code: String, _ root: String) -> Bool {
        var current: String? = code
        while let node = current { if node == root { return true }; current = parents[node] ?? nil }
        return false
    }

    static func ancestor(_ code: String, atDepth target: Int) -> String {
        var current = code
        while depth(current) > target, let parent = parents[current] ?? nil { current = parent }
        return current
    }

    static func quarter(_ month: String) -> String {
        let index = Int(month.suffix(2))!
        return "2025-Q\((index - 1) / 3 + 1)"
    }

    static func groupKey(_ row: Stored, shape: Shape) -> String {
        shape.by.map { grouping -> String in
            switch grouping {
            case "neighborhood": return shape.level.map { ancestor(row.neighborhood, atDepth: $0) } ?? row.neighborhood
            case "period": return shape.quarters ? quarter(row.month) : row.month
            case "partner": return row.partner
            default: return row.group
            }
        }.joined(separator: "/")
    }

    static func rowKey(_ row: [String: Any], shape: Shape) -> String {
        shape.by.map { grouping -> String in
            if grouping == "dimension:age_group" {
                return (row["dimensions"] as? [String: Any])?["age_group"] as? String ?? "?"
            }
            return row[grouping] as? String ?? "?"
        }.joined(separator: "/")
    }

    /// The aggregation rules, written plainly from docs/domain.md#aggregation-methods.
    static func model(_ rows: [Stored], method: String, shape: Shape) -> [String: Double?] {
        let selected = rows.filter { row in
            shape.months.contains(row.month) && (shape.within.map { isWithin(row.neighborhood, $0) } ?? true)
        }
        var result: [String: Double?] = [:]
        if !shape.by.isEmpty {
            for (key, members) in Dictionary(grouping: selected, by: { groupKey($0, shape: shape) }) {
                result.updateValue(combine(members, method: method), forKey: key)
            }
        }
        result.updateValue(selected.isEmpty ? nil : combine(selected, method: method), forKey: "total")
        return result
    }

    static func combine(_ rows: [Stored], method: String) -> Double? {
        let values = rows.map(\.value)
        switch method {
        case "sum": return values.reduce(0, +)
        case "mean": return values.reduce(0, +) / Double(values.count)
        case "ratio": return values.reduce(0, +) / rows.map(\.denominator).reduce(0, +) * 100
        case "min": return values.min()
        case "max": return values.max()
        default:
            // Each series (partner, neighborhood, dimension values) contributes its latest value.
            let series = Dictionary(grouping: rows) { "\($0.partner)|\($0.neighborhood)|\($0.group)" }
            return series.values.map { $0.max { $0.month < $1.month }!.value }.reduce(0, +)
        }
    }

    static func close(_ lhs: Double?, _ rhs: Double?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): return true
        case (let l?, let r?): return abs(l - r) <= 1e-9 * max(1, abs(l), abs(r))
        default: return false
        }
    }
}
