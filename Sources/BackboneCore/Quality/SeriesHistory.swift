import Aggregation
import DataQuality
import DomainModel
import Postgres

/// The earlier values of the series a batch writes (docs/domain.md#measurements-and-series),
/// stored ones with the batch's own rows laid over them: what each new value is scored against.
struct SeriesHistory {
    /// One partner's numbers for one neighborhood and one set of dimension values of an indicator.
    struct SeriesKey: Hashable {
        var indicator: String
        var partner: String
        var neighborhood: String
        var dimensionKey: String

        init(_ row: ValidRow) {
            self.init(
                indicator: row.indicator, partner: row.partner, neighborhood: row.neighborhood,
                dimensionKey: row.dimensionKey)
        }

        init(indicator: String, partner: String, neighborhood: String, dimensionKey: String) {
            self.indicator = indicator
            self.partner = partner
            self.neighborhood = neighborhood
            self.dimensionKey = dimensionKey
        }
    }

    /// Each series' points in period order, with their periods' first days beside them: a
    /// series' periods share a type, so the days order them, and comparing days is cheap
    /// where comparing periods computes each one's first day.
    private(set) var series: [SeriesKey: (points: [OutlierScorer.Point], starts: [Day])] = [:]

    /// Loads, for every series of `rows`, the stored points from `OutlierScorer.historyStart(for:)`
    /// of its earliest row up to its latest, and lays the rows over them.
    static func load(_ connection: Connection, rows: [ValidRow], indicators: [String: Indicator]) throws
        -> SeriesHistory
    {
        var span: [SeriesKey: (first: Period, last: Period)] = [:]
        for row in rows {
            let key = SeriesKey(row)
            if let known = span[key] {
                span[key] = (min(known.first, row.period), max(known.last, row.period))
            } else {
                span[key] = (row.period, row.period)
            }
        }
        var history = SeriesHistory()
        var byPeriod: [SeriesKey: [Period: Double]] = [:]
        let keys = Array(span.keys)
        let windows = keys.map { (first: earliest(before: span[$0]!.first), last: span[$0]!.last) }
        // The window is bounded by the periods' text too: within one period type (a series
        // has one) the text orders as the periods do, and `period` is in the natural key's
        // index, so the scan stops at the window instead of reading every period of the
        // series from the table (at 10M rows, a quarter of this query's time).
        let stored = try connection.query(
            """
            SELECT s.ord, m.period, m.value, m.numerator, m.denominator
            FROM unnest(\(keys.map(\.indicator))::text[], \(keys.map(\.partner))::text[],
                        \(keys.map(\.neighborhood))::text[], \(keys.map(\.dimensionKey))::text[],
                        \(windows.map(\.first.start))::date[], \(windows.map(\.last.start))::date[],
                        \(windows.map(\.first.description))::text[], \(windows.map(\.last.description))::text[])
                 WITH ORDINALITY AS s(indicator, partner, neighborhood, dimension_key, from_start, to_start,
                                      from_period, to_period, ord)
            JOIN measurements m ON m.indicator_code = s.indicator AND m.partner_id = s.partner
                 AND m.neighborhood_code = s.neighborhood AND m.dimension_key = s.dimension_key
                 AND m.period >= s.from_period AND m.period <= s.to_period
                 AND m.period_start >= s.from_start AND m.period_start <= s.to_start
            """)
        for row in stored {
            let (ordinal, periodText, value, numerator, denominator) =
                try row.decode((Int, String, Double?, Double?, Double?).self)
            let key = keys[ordinal - 1]
            guard let period = Period(periodText) else {
                throw DomainError.storedData(column: "measurements.period", "holds \(periodText.debugDescription)")
            }
            if let point = pointValue(
                value: value, numerator: numerator, denominator: denominator, indicators[key.indicator])
            {
                byPeriod[key, default: [:]][period] = point
            }
        }
        for row in rows {
            let key = SeriesKey(row)
            byPeriod[key, default: [:]][row.period] = pointValue(
                value: row.value, numerator: row.numerator, denominator: row.denominator, indicators[row.indicator])
        }
        for (key, values) in byPeriod {
            let ordered = values.map {
                (start: $0.key.start, point: OutlierScorer.Point(period: $0.key, value: $0.value))
            }
            .sorted { $0.start < $1.start }
            history.series[key] = (ordered.map(\.point), ordered.map(\.start))
        }
        return history
    }

    /// The points of `key`'s series before `period`, as far back as `OutlierScorer.historyStart(for:)`.
    func points(of key: SeriesKey, before period: Period) -> [OutlierScorer.Point] {
        guard let (points, starts) = series[key] else { return [] }
        let window =
            Self.firstIndex(
                in: starts, notBefore: Self.earliest(before: period).start)..<Self.firstIndex(
                in: starts, notBefore: period.start)
        return Array(points[window])
    }

    /// The index of the first of the ascending `days` that is not before `day` (binary search).
    static func firstIndex(in days: [Day], notBefore day: Day) -> Int {
        var low = 0
        var high = days.count
        while low < high {
            let middle = (low + high) / 2
            if days[middle] < day { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first period of the window scored against a value of `period`.
    static func earliest(before period: Period) -> Period { OutlierScorer.historyStart(for: period) }

    /// What a row contributes to its series' history: its value, or for a ratio its rate.
    static func pointValue(value: Double?, numerator: Double?, denominator: Double?, _ indicator: Indicator?)
        -> Double?
    {
        if let value { return value }
        guard let numerator, let denominator, denominator > 0, let indicator else { return nil }
        return numerator / denominator
            * Indicator.scale(valueType: indicator.valueType, aggregation: indicator.aggregation)
    }
}
