import Aggregation
import DomainModel
import Foundation
import JSON
import Postgres

/// Releasing periods and reading what was released (docs/privacy.md).
///
/// A release of an agenda's period covers each of its active indicators whose period type
/// is the period's or finer, each native period starting inside it. For each, it protects
/// the grid once (``ProtectedCells``, against every single reader, beside the earlier
/// releases of that native period) and stores the rollups as they are, the withheld cells
/// and each partner's contributions (for the protection of a later revision). It locks the
/// period for partners. Partner and viewer reports read each native period's latest release.
public enum Releases {
    /// Releases `period` of `agenda` now: a revision when it was released before.
    public static func create(
        _ connection: Connection, agenda: String, period text: String, keyID: String?, automatic: Bool,
        policy: SuppressionPolicy
    ) throws -> Release {
        guard let period = Period(text) else {
            throw DomainError.invalid(
                field: "period", code: "malformed-period",
                "\(text.debugDescription) is not a period; write 2026, 2026-Q3, 2026-10 or 2026-W05")
        }
        // One release of an agenda at a time, in any server process: revisions count up, and
        // an automatic release never duplicates one made meanwhile.
        guard try !connection.query("SELECT 1 FROM agendas WHERE id = \(agenda) FOR UPDATE").isEmpty else {
            throw DomainError.invalid(field: "agenda", code: "unknown-reference", "no agenda \(agenda) exists")
        }
        let parents = try ReportSource.parents(connection)
        let tree = NeighborhoodTree(parents: parents, populations: [:])
        let treeJSON = JSONValue.object(parents.mapValues { JSONValue($0) })
        let (id, revision, releasedAt) = try connection.query(
            """
            INSERT INTO releases (agenda_id, period, period_start, period_end, revision, automatic, released_by, neighborhoods)
            SELECT \(agenda), \(period.description), \(period.start), \(period.end),
                   coalesce(max(revision), 0) + 1, \(automatic), \(keyID), \(jsonText(treeJSON))::jsonb
            FROM releases WHERE agenda_id = \(agenda) AND period = \(period.description)
            RETURNING id, revision, released_at
            """)[0].decode((Int, Int, Date).self)
        var coverage: [Release.Coverage] = []
        for indicator in try IndicatorStore.list(connection, activeIn: agenda) where indicator.periodType <= period.type
        {
            coverage.append(
                try release(indicator, in: period, id: id, connection: connection, tree: tree, policy: policy))
        }
        let locks = try connection.query(
            """
            INSERT INTO period_locks (agenda_id, period, period_start, period_end, reason, locked_by)
            SELECT \(agenda), \(period.description), \(period.start), \(period.end), \("released (release \(id))"), \(keyID ?? "automatic release")
            WHERE NOT EXISTS (SELECT FROM period_locks WHERE agenda_id = \(agenda) AND period_start <= \(period.start) AND period_end >= \(period.end))
            RETURNING \(Query(unsafeSQL: PeriodLocks.columns))
            """)
        let made = Release(
            id: id, agenda: agenda, period: period.description, revision: revision, automatic: automatic,
            releasedAt: releasedAt,
            indicators: coverage)
        try ChangeEvents.released(connection, made)
        for lock in locks { try ChangeEvents.locked(connection, try PeriodLocks.decode(lock), agenda: agenda) }
        return made
    }

    /// Protects and stores one indicator's native periods inside `period`: those with data
    /// now, and those an earlier release published (their data may since have been removed).
    private static func release(
        _ indicator: Indicator, in period: Period, id: Int, connection: Connection, tree: NeighborhoodTree,
        policy: SuppressionPolicy
    ) throws -> Release.Coverage {
        let raw = try ReportSource.partials(
            connection, indicator: indicator, from: period.start, until: period.end, raw: true)
        let byPeriod = Dictionary(grouping: raw, by: \.period)
        let earlier = try earlierGrids(connection, indicator: indicator.code, from: period.start, until: period.end)
        let periods = Set(byPeriod.keys).union(earlier.keys).sorted()
        var coverage = Release.Coverage(
            indicator: indicator.code, periods: periods.map(\.description), cells: 0, withheld: 0)
        let rules = ProtectedCells.ValueRules(
            isCount: indicator.profile.isCount, isRatio: indicator.aggregation == .ratio, range: indicator.validRange)
        for native in periods {
            let contributions = ProtectedCells.Contribution.of(byPeriod[native] ?? [])
            let protection = ProtectedCells(
                contributions: contributions, earlier: earlier[native] ?? [], tree: tree, policy: policy, rules: rules)
            coverage.cells += protection.cellCount
            coverage.withheld += protection.withheld.count
            let withheld = JSONValue.array(
                protection.withheld.map { cell in
                    .array([.string(cell.scope.description), .string(DimensionValues.key(cell.dimensions))])
                })
            let stored = JSONValue.array(
                contributions.map { entry in
                    .array([
                        .string(entry.neighborhood), .string(DimensionValues.key(entry.dimensions)),
                        .string(entry.partner),
                        JSONValue(entry.measurements), .number(entry.sum), .number(entry.numerator),
                        .number(entry.denominator),
                    ])
                })
            try connection.query(
                """
                INSERT INTO release_grids (release_id, indicator_code, period_start, period, cells, withheld, contributions)
                VALUES (\(id), \(indicator.code), \(native.start), \(native.description), \(protection.cellCount),
                        \(jsonText(withheld))::jsonb, \(jsonText(stored))::jsonb)
                """)
            try connection.query(
                """
                INSERT INTO release_rollups
                SELECT \(id), indicator_code, period_start, period, neighborhood_code, dimension_key, dimensions, measurements,
                       partner_list, sum_value, sum_numerator, sum_denominator, min_value, max_value
                FROM measurement_rollups WHERE indicator_code = \(indicator.code) AND period_start = \(native.start)
                """)
        }
        return coverage
    }

    /// The earlier releases of each native period of `indicator` starting in `[from, until)`, oldest first.
    private static func earlierGrids(
        _ connection: Connection, indicator: String, from: Day, until: Day
    ) throws -> [Period: [ProtectedCells.EarlierRelease]] {
        var grids: [Period: [ProtectedCells.EarlierRelease]] = [:]
        let rows = try connection.query(
            """
            SELECT period, withheld::text, contributions::text FROM release_grids
            WHERE indicator_code = \(indicator) AND period_start >= \(from) AND period_start < \(until)
            ORDER BY period_start, release_id
            """)
        for row in rows {
            let (periodText, withheldText, contributionsText) = try row.decode((String, String, String).self)
            grids[try period(periodText), default: []].append(
                ProtectedCells.EarlierRelease(
                    contributions: try contributions(contributionsText), withheld: try withheldCells(withheldText)))
        }
        return grids
    }

    /// Every release, of one agenda or all, newest first.
    public static func list(_ connection: Connection, agenda: String?) throws -> [Release] {
        let filter: Query = agenda.map { "WHERE r.agenda_id = \($0)" } ?? ""
        let rows = try connection.query(
            """
            SELECT r.id, r.agenda_id, r.period, r.revision, r.automatic, r.released_at, g.indicator_code,
                   string_agg(g.period, ',' ORDER BY g.period_start), sum(g.cells)::bigint,
                   sum(jsonb_array_length(g.withheld))::bigint
            FROM releases r LEFT JOIN release_grids g ON g.release_id = r.id
            \(filter)
            GROUP BY r.id, g.indicator_code
            ORDER BY r.id DESC, g.indicator_code
            """)
        var releases: [Release] = []
        for row in rows {
            let (id, agenda, period, revision, automatic, releasedAt, indicator, periods, cells, withheld) =
                try row.decode((Int, String, String, Int, Bool, Date, String?, String?, Int?, Int?).self)
            if releases.last?.id != id {
                releases.append(
                    Release(
                        id: id, agenda: agenda, period: period, revision: revision, automatic: automatic,
                        releasedAt: releasedAt, indicators: []))
            }
            if let indicator {
                releases[releases.count - 1].indicators.append(
                    Release.Coverage(
                        indicator: indicator, periods: periods.map { $0.split(separator: ",").map(String.init) } ?? [],
                        cells: cells ?? 0,
                        withheld: withheld ?? 0))
            }
        }
        return releases
    }

    /// What partners and viewers may read of `indicator` in `[from, until)`: each native
    /// period's latest release (its rollups, withheld cells, and the release it came from).
    public struct Published: Sendable {
        public var partials: [Partial]
        public var withheld: WithheldCells
        /// The releases used, oldest period first.
        public var releases: [Release.Stamp]
    }

    /// Reads ``Published`` for `indicator`; `tree` is today's, against which each release's own tree is checked.
    public static func published(
        _ connection: Connection, indicator: Indicator, from: Day?, until: Day?, tree: NeighborhoodTree,
        partners directory: ReportSource.PartnerDirectory = ReportSource.PartnerDirectory()
    ) throws -> Published {
        let lower = from ?? ReportSource.earliest
        let upper = until ?? ReportSource.latest
        let grids = try connection.query(
            """
            SELECT DISTINCT ON (g.period_start) g.period, g.release_id, g.withheld::text, r.period, r.revision, r.released_at,
                   CASE WHEN r.neighborhoods = today.tree THEN NULL ELSE r.neighborhoods::text END
            FROM release_grids g JOIN releases r ON r.id = g.release_id,
                 (SELECT coalesce(jsonb_object_agg(code, parent_code), '{}'::jsonb) AS tree FROM neighborhoods) today
            WHERE g.indicator_code = \(indicator.code) AND g.period_start >= \(lower) AND g.period_start < \(upper)
            ORDER BY g.period_start, g.release_id DESC
            """)
        var withheld = WithheldCells()
        var stamps: [Int: Release.Stamp] = [:]
        var releaseOf: [Period: Int] = [:]
        // The trees of releases cut on another tree than today's (the database compares them).
        var otherTrees: [Int: NeighborhoodTree] = [:]
        for row in grids {
            let (periodText, releaseID, withheldText, releasePeriod, revision, releasedAt, treeText) =
                try row.decode((String, Int, String, String, Int, Date, String?).self)
            let period = try period(periodText)
            releaseOf[period] = releaseID
            stamps[releaseID] = Release.Stamp(
                id: releaseID, period: releasePeriod, revision: revision, releasedAt: releasedAt)
            if let treeText, otherTrees[releaseID] == nil { otherTrees[releaseID] = try releasedTree(treeText) }
            let cells = try withheldCells(withheldText)
            withheld.add(
                period, withheld: WithheldCells.withAliases(cells, tree: otherTrees[releaseID] ?? tree),
                treeMatches: true)
        }
        guard !releaseOf.isEmpty else { return Published(partials: [], withheld: withheld, releases: []) }
        let rows = try connection.query(
            """
            SELECT u.neighborhood_code, u.period, u.dimensions::text, u.partner_list, u.measurements,
                   u.sum_value, u.sum_numerator, u.sum_denominator, u.min_value, u.max_value
            FROM unnest(\(releaseOf.values.map { $0 })::bigint[], \(releaseOf.keys.map(\.start.description))::date[]) AS l (release_id, period_start)
            JOIN release_rollups u ON u.indicator_code = \(indicator.code) AND u.release_id = l.release_id AND u.period_start = l.period_start
            """)
        var reader = ReportSource.RollupRows(directory: directory, table: "release_rollups")
        let partials = try reader.partials(rows, connection)
        // A period whose neighborhoods sit elsewhere in today's tree than in its release's:
        // its grid cells are not today's report cells.
        for partial in partials where !otherTrees.isEmpty {
            guard let release = releaseOf[partial.period], let then = otherTrees[release],
                then.chain(of: partial.neighborhood) != tree.chain(of: partial.neighborhood)
            else { continue }
            withheld.add(partial.period, withheld: [], treeMatches: false)
        }
        let used = Set(releaseOf.values).compactMap { stamps[$0] }.sorted { ($0.period, $0.id) < ($1.period, $1.id) }
        return Published(partials: partials, withheld: withheld, releases: used)
    }

    /// The first and the latest native period of `indicator` released with data.
    public static func periodBounds(_ connection: Connection, indicator: String) throws -> (
        first: Period?, latest: Period?
    ) {
        let rows = try connection.query(
            """
            SELECT (SELECT period FROM release_grids WHERE indicator_code = \(indicator) AND cells > 0 ORDER BY period_start LIMIT 1),
                   (SELECT period FROM release_grids WHERE indicator_code = \(indicator) AND cells > 0 ORDER BY period_start DESC LIMIT 1)
            """)
        let (first, latest) = try rows[0].decode((String?, String?).self)
        return (try first.map(period), try latest.map(period))
    }

    private static func period(_ text: String) throws -> Period {
        guard let period = Period(text) else {
            throw DomainError.storedData(
                column: "release_grids.period", "holds \(text.debugDescription), which is not a period")
        }
        return period
    }

    // MARK: - Stored forms

    private static func jsonText(_ value: JSONValue) -> String {
        String(decoding: value.jsonBytes, as: UTF8.self)
    }

    private static func parse(_ text: String, column: String) throws -> JSONValue {
        do { return try JSONValue.parse(Data(text.utf8)) } catch {
            throw DomainError.storedData(column: column, "holds text that is not JSON")
        }
    }

    static func withheldCells(_ text: String) throws -> Set<ProtectedCells.GridCell> {
        guard case .array(let items) = try parse(text, column: "release_grids.withheld") else {
            throw DomainError.storedData(column: "release_grids.withheld", "is not a list of cells")
        }
        return Set(
            try items.map { item in
                guard case .array(let parts) = item, parts.count == 2, case .string(let scopeText) = parts[0],
                    case .string(let key) = parts[1], let scope = ProtectedCells.Scope(scopeText)
                else {
                    throw DomainError.storedData(
                        column: "release_grids.withheld", "holds a cell that is not [scope, dimensions]")
                }
                return ProtectedCells.GridCell(scope: scope, dimensions: try DimensionValues.parse(key))
            })
    }

    static func contributions(_ text: String) throws -> [ProtectedCells.Contribution] {
        let failure = DomainError.storedData(
            column: "release_grids.contributions",
            "holds an entry that is not [neighborhood, dimensions, partner, measurements, sum, numerator, denominator]")
        guard case .array(let items) = try parse(text, column: "release_grids.contributions") else { throw failure }
        return try items.map { item in
            guard case .array(let parts) = item, parts.count == 7, case .string(let neighborhood) = parts[0],
                case .string(let key) = parts[1], case .string(let partner) = parts[2],
                case .number(let count) = parts[3],
                case .number(let sum) = parts[4], case .number(let numerator) = parts[5],
                case .number(let denominator) = parts[6]
            else { throw failure }
            return ProtectedCells.Contribution(
                neighborhood: neighborhood, dimensions: try DimensionValues.parse(key), partner: partner,
                measurements: Int(count),
                sum: sum, numerator: numerator, denominator: denominator)
        }
    }

    private static func releasedTree(_ text: String) throws -> NeighborhoodTree {
        guard case .object(let members) = try parse(text, column: "releases.neighborhoods") else {
            throw DomainError.storedData(column: "releases.neighborhoods", "is not an object of parents")
        }
        var parents: [String: String?] = [:]
        for (code, parent) in members {
            switch parent {
            case .null: parents[code] = .some(nil)
            case .string(let text): parents[code] = text
            default:
                throw DomainError.storedData(
                    column: "releases.neighborhoods", "gives \(code) a parent that is not a code")
            }
        }
        return NeighborhoodTree(parents: parents, populations: [:])
    }
}

extension Releases {
    /// Releases every native period with data but no release that ended at least the
    /// agenda's `release_after_days` (else `defaultAfterDays`) before `today`: one release of
    /// each such (agenda, period), each in a transaction of its own. A period another server
    /// released meanwhile is skipped.
    public static func releaseDue(
        _ connection: Connection, defaultAfterDays: Int, policy: SuppressionPolicy, today: Day
    ) throws -> [Release] {
        let rows = try connection.query(
            """
            SELECT DISTINCT i.agenda_id, coalesce(a.release_after_days, \(defaultAfterDays)), r.period
            FROM (SELECT DISTINCT indicator_code, period_start, period FROM measurement_rollups) r
            JOIN indicators i ON i.code = r.indicator_code JOIN agendas a ON a.id = i.agenda_id
            WHERE i.active AND a.active
              AND NOT EXISTS (SELECT FROM release_grids g WHERE g.indicator_code = r.indicator_code AND g.period_start = r.period_start)
            """)
        var released: [Release] = []
        for row in rows {
            let (agenda, days, text) = try row.decode((String, Int, String).self)
            guard let period = Period(text), period.end.adding(days: days) <= today else { continue }
            let release = try connection.transaction { connection -> Release? in
                _ = try connection.query("SELECT 1 FROM agendas WHERE id = \(agenda) FOR UPDATE")
                let done = try connection.query(
                    "SELECT 1 FROM releases WHERE agenda_id = \(agenda) AND period = \(period.description)")
                guard done.isEmpty else { return nil }
                return try create(
                    connection, agenda: agenda, period: period.description, keyID: nil, automatic: true, policy: policy)
            }
            if let release { released.append(release) }
        }
        return released
    }
}
