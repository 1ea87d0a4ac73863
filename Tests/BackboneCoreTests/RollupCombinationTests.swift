import Aggregation
import BackboneCore
import DomainModel
import Foundation
import Postgres
import TestSupport
import Testing

/// The rollup combination runs twice: in SQL, where the triggers keep measurement_rollups
/// (functions.sql's rollup_cells and the insert trigger's merge), and in Swift, where
/// reports merge partials (`Partial.merge`, `Aggregator`). On random measurements of every
/// aggregation method, inserted in batches, corrected and retracted, the stored rollups
/// equal Swift's combination of the same raw rows, and a report over either is the same.
@Suite("The SQL rollups equal Swift's combination")
struct RollupCombinationTests {
    /// A small deterministic generator, so that a failure names the seed that shows it.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct IndicatorSpec {
        var code: String
        var valueType: ValueType
        var method: AggregationMethod
        var scale: Double { Indicator.scale(valueType: valueType, aggregation: method) }
    }

    /// One indicator per aggregation method, the ratio twice (percent and rate).
    static let indicators: [IndicatorSpec] = [
        IndicatorSpec(code: "i-sum", valueType: .count, method: .sum),
        IndicatorSpec(code: "i-mean", valueType: .score, method: .mean),
        IndicatorSpec(code: "i-ratio-percent", valueType: .percent, method: .ratio),
        IndicatorSpec(code: "i-ratio-rate", valueType: .rate, method: .ratio),
        IndicatorSpec(code: "i-last", valueType: .amount, method: .last),
        IndicatorSpec(code: "i-min", valueType: .amount, method: .min),
        IndicatorSpec(code: "i-max", valueType: .score, method: .max),
    ]
    static let partners = (0..<5).map { "p\($0)" }
    static let neighborhoods = ["city", "north", "south", "east"]
    static let months = (1...4).map { String(format: "2025-%02d", $0) }
    static let groups = ["x", "y"]

    struct CellKey: Hashable, CustomStringConvertible {
        var indicator: String, period: String, neighborhood: String, dimensionKey: String
        var description: String { "\(indicator) \(period) \(neighborhood) \(dimensionKey)" }
    }

    static func database() throws -> Connection {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        try connection.execute(
            """
            INSERT INTO agendas (id, name) VALUES ('a', 'A');
            INSERT INTO neighborhoods (code, name, parent_code) VALUES ('city', 'City', NULL);
            INSERT INTO neighborhoods (code, name, parent_code) VALUES ('north', 'North', 'city'), ('south', 'South', 'city'), ('east', 'East', 'city');
            """)
        for partner in partners {
            try connection.query("INSERT INTO partners (id, name, kind) VALUES (\(partner), \(partner), 'other')")
        }
        for spec in indicators {
            try connection.query(
                """
                INSERT INTO indicators (code, agenda_id, name, value_type, aggregation, period_type, dimensions)
                VALUES (\(spec.code), 'a', \(spec.code), \(spec.valueType.rawValue), \(spec.method.rawValue), 'month',
                        '[{"name": "g", "values": ["x", "y"]}]')
                """)
        }
        return connection
    }

    /// Inserts random measurements in batches (the insert trigger merges each batch into the
    /// stored cells), then corrects and retracts some (the recompute trigger).
    static func writeRandomly(_ connection: Connection, seed: UInt64) throws {
        var random = SplitMix(state: seed)
        var keys: [(String, String, String, String, String)] = []
        for spec in indicators {
            for partner in partners {
                for neighborhood in neighborhoods {
                    for month in months {
                        for group in groups where Int.random(in: 0..<3, using: &random) > 0 {
                            keys.append((spec.code, partner, neighborhood, month, group))
                        }
                    }
                }
            }
        }
        keys.shuffle(using: &random)
        func number(_ range: ClosedRange<Int>) -> Double { Double(Int.random(in: range, using: &random)) / 4 }
        var start = 0
        while start < keys.count {
            let end = min(keys.count, start + Int.random(in: 1...60, using: &random))
            var rows: [String] = []
            for (code, partner, neighborhood, month, group) in keys[start..<end] {
                let spec = indicators.first { $0.code == code }!
                var terms = "\(number(-400...4000)), NULL, NULL"
                if spec.method == .ratio {
                    let denominator = number(1...400)
                    let numerator =
                        spec.valueType == .percent
                        ? denominator * Double(Int.random(in: 0...8, using: &random)) / 8 : number(0...800)
                    terms = "NULL, \(numerator), \(denominator)"
                }
                rows.append(
                    "('\(partner)', '\(code)', '\(neighborhood)', '\(month)', '\(month)-01', '{\"g\":\"\(group)\"}', '{\"g\": \"\(group)\"}', \(terms), gen_random_uuid(), 'test')"
                )
            }
            try connection.execute(
                """
                INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, dimensions,
                                          value, numerator, denominator, batch_id, updated_by)
                VALUES \(rows.joined(separator: ",\n"))
                """)
            start = end
        }
        for _ in 0..<6 {
            let threshold = Int.random(in: 0..<97, using: &random)
            try connection.execute(
                "UPDATE measurements SET value = value * 2 - 3 WHERE value IS NOT NULL AND id % 97 = \(threshold)")
            try connection.execute(
                "UPDATE measurements SET numerator = numerator / 2 WHERE numerator IS NOT NULL AND id % 89 = \(threshold % 89)"
            )
            try connection.execute("DELETE FROM measurements WHERE id % 101 = \(threshold)")
        }
    }

    /// Swift's partials of the raw measurements, merged per rollup cell.
    static func swiftCells(_ connection: Connection) throws -> [CellKey: Partial] {
        var cells: [CellKey: Partial] = [:]
        for (key, partial) in try swiftRawPartials(connection) {
            if let existing = cells[key] { cells[key] = existing.merging(partial) } else { cells[key] = partial }
        }
        return cells
    }

    /// The stored rollups as partials (partners named by id), as reports read them.
    static func storedCells(_ connection: Connection) throws -> [CellKey: Partial] {
        var idOfNumber: [String: String] = [:]
        for row in try connection.query("SELECT number::text, id FROM partners") {
            let (number, id) = try row.decode((String, String).self)
            idOfNumber[number] = id
        }
        var cells: [CellKey: Partial] = [:]
        let rows = try connection.query(
            """
            SELECT indicator_code, period, neighborhood_code, dimension_key, dimensions::text, partner_list, measurements,
                   sum_value, sum_numerator, sum_denominator, min_value, max_value
            FROM measurement_rollups
            """)
        for row in rows {
            let (code, periodText, neighborhood, dimensionKey, dimensionText, list) = try row.decode(
                (String, String, String, String, String, String).self)
            let dimensions = try #require(
                try JSONSerialization.jsonObject(with: Data(dimensionText.utf8)) as? [String: String])
            let numbers = list.split(separator: ",").map(String.init)
            #expect(Set(numbers).count == numbers.count, "partner_list \(list) lists a partner twice")
            cells[
                CellKey(indicator: code, period: periodText, neighborhood: neighborhood, dimensionKey: dimensionKey)] =
                Partial(
                    neighborhood: neighborhood, period: try #require(Period(periodText)), dimensions: dimensions,
                    partner: nil,
                    partners: PartnerSet(numbers.map { idOfNumber[$0] ?? "?\($0)" }), count: try row.decode(at: 6),
                    sum: try row.decode(at: 7), sumNumerator: try row.decode(at: 8),
                    sumDenominator: try row.decode(at: 9),
                    min: try row.decode(at: 10), max: try row.decode(at: 11), values: nil)
        }
        return cells
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func storedRollupsEqualSwiftsMerge(seed: UInt64) throws {
        let connection = try Self.database()
        try Self.writeRandomly(connection, seed: seed)
        let (expected, stored) = (try Self.swiftCells(connection), try Self.storedCells(connection))
        #expect(expected.count > 200)
        #expect(Set(stored.keys) == Set(expected.keys), "seed \(seed): cells differ")
        for (key, mine) in expected {
            guard let theirs = stored[key] else { continue }
            let same =
                mine.count == theirs.count && mine.partners == theirs.partners && Self.close(mine.sum, theirs.sum)
                && Self.close(mine.sumNumerator, theirs.sumNumerator)
                && Self.close(mine.sumDenominator, theirs.sumDenominator)
                && Self.close(mine.min, theirs.min) && Self.close(mine.max, theirs.max)
            #expect(same, "seed \(seed), cell \(key): Swift \(mine), SQL \(theirs)")
        }
    }

    /// Reports by neighborhood of each single period: the Aggregator over the raw rows and
    /// over the stored rollups gives the same cells for every aggregation method.
    @Test func aReportOverRollupsEqualsOneOverRawRows() throws {
        let connection = try Self.database()
        try Self.writeRandomly(connection, seed: 7)
        let (raw, stored) = (try Self.swiftRawPartials(connection), try Self.storedCells(connection))
        let tree = NeighborhoodTree(
            parents: ["city": nil, "north": "city", "south": "city", "east": "city"],
            populations: ["city": 1000, "north": 300, "south": 300, "east": 400])
        let request = ReportRequest(groupings: [.neighborhood, .dimension("g")])
        for spec in Self.indicators {
            let profile = IndicatorProfile(method: spec.method, scale: spec.scale, periodType: .month)
            for month in Self.months {
                let fromRaw = Aggregator.report(
                    raw.filter { $0.key.indicator == spec.code && $0.key.period == month }.map(\.value),
                    profile: profile, request: request, tree: tree)
                let fromRollups = Aggregator.report(
                    stored.filter { $0.key.indicator == spec.code && $0.key.period == month }.map(\.value),
                    profile: profile, request: request, tree: tree)
                #expect(fromRaw.rows.count == fromRollups.rows.count && fromRaw.rows.count > 3, "\(spec.code) \(month)")
                for (mine, theirs) in zip(fromRaw.rows + [fromRaw.total], fromRollups.rows + [fromRollups.total]) {
                    let same =
                        mine.key == theirs.key && Self.close(mine.value, theirs.value)
                        && mine.measurements == theirs.measurements
                        && mine.partnerIDs == theirs.partnerIDs && Self.close(mine.min, theirs.min)
                        && Self.close(mine.max, theirs.max)
                        && Self.close(mine.mean, theirs.mean) && Self.close(mine.per1000, theirs.per1000)
                    #expect(same, "\(spec.code) \(month): raw \(mine), rollups \(theirs)")
                }
            }
        }
    }

    /// "The latest of each series" is chosen in SQL twice (functions.sql's latest_of_series,
    /// which keeps series_latest, and ReportSource.latestPerSeries's reading of the
    /// measurements of a range that stops short of the latest data) and in Swift once
    /// (Aggregator's stock combination over raw rows): over ranges that reach the latest
    /// data and ranges that do not, a stock's report is the same from each.
    @Test func eachSeriesLatestIsChosenAlikeInSQLAndSwift() throws {
        let connection = try Self.database()
        try Self.writeRandomly(connection, seed: 11)
        let indicator = try #require(try IndicatorStore.find(connection, code: "i-last"))
        let raw = try Self.swiftRawPartials(connection).filter { $0.key.indicator == indicator.code }.map(\.value)
        let tree = NeighborhoodTree(
            parents: ["city": nil, "north": "city", "south": "city", "east": "city"], populations: [:])
        let request = ReportRequest(groupings: [.neighborhood, .dimension("g")])
        let month = { (text: String) in Period(text)! }
        let ranges: [(from: Period?, to: Period?)] = [
            (nil, nil), (month("2025-01"), month("2025-04")), (month("2025-02"), month("2025-03")),
            (month("2025-01"), month("2025-01")), (month("2025-03"), nil), (nil, month("2025-02")),
        ]
        for (from, to) in ranges {
            let until = to.map(\.end)
            let inRange = raw.filter { partial in
                (from.map { partial.period >= $0 } ?? true) && (to.map { partial.period <= $0 } ?? true)
            }
            let fromSQL = try ReportSource.latestPerSeries(
                connection, indicator: indicator, from: from?.start, until: until)
            let (mine, theirs) = (
                Aggregator.report(inRange, profile: indicator.profile, request: request, tree: tree),
                Aggregator.report(fromSQL, profile: indicator.profile, request: request, tree: tree)
            )
            #expect(
                mine.rows.count == theirs.rows.count && mine.rows.count > 3,
                "\(String(describing: from))...\(String(describing: to))")
            for (a, b) in zip(mine.rows + [mine.total], theirs.rows + [theirs.total]) {
                let same =
                    a.key == b.key && Self.close(a.value, b.value) && a.measurements == b.measurements
                    && a.partnerIDs == b.partnerIDs
                #expect(same, "\(String(describing: from))...\(String(describing: to)): Swift \(a), SQL \(b)")
            }
        }
        // And series_latest, kept by the triggers, is latest_of_series over every measurement.
        let stored = try connection.query(
            "SELECT concat_ws(' ', indicator_code, partner_id, neighborhood_code, dimension_key, period, value) FROM series_latest ORDER BY 1"
        )
        .map { try $0.decode(String.self, at: 0) }
        let chosen = try connection.query(
            "SELECT concat_ws(' ', indicator_code, partner_id, neighborhood_code, dimension_key, period, value) FROM latest_of_series(ARRAY(SELECT m FROM measurements m)) ORDER BY 1"
        ).map { try $0.decode(String.self, at: 0) }
        #expect(stored == chosen && stored.count > 20)
    }

    /// Every raw measurement as a partial, with the rollup cell it counts in.
    static func swiftRawPartials(_ connection: Connection) throws -> [(key: CellKey, value: Partial)] {
        try connection.query(
            """
            SELECT indicator_code, partner_id, neighborhood_code, period, dimension_key, dimensions::text, value, numerator, denominator
            FROM measurements
            """
        ).map { row in
            let (code, partner, neighborhood, periodText, dimensionKey, dimensionText, value, numerator, denominator) =
                try row.decode((String, String, String, String, String, String, Double?, Double?, Double?).self)
            let spec = try #require(indicators.first { $0.code == code })
            let period = try #require(Period(periodText))
            let dimensions = try #require(
                try JSONSerialization.jsonObject(with: Data(dimensionText.utf8)) as? [String: String])
            let key = CellKey(
                indicator: code, period: periodText, neighborhood: neighborhood, dimensionKey: dimensionKey)
            if let numerator, let denominator {
                return (
                    key,
                    .ratioMeasurement(
                        partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions,
                        numerator: numerator, denominator: denominator, scale: spec.scale)
                )
            }
            return (
                key,
                .measurement(
                    partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions,
                    value: try #require(value))
            )
        }
    }
}
