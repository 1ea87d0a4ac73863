import Aggregation
import Foundation
import Postgres

/// Stories behind the curve: every save a new version, the story in force for a period,
/// the versions written for a period, and restoring one (docs/stories.md).
public enum Stories {
    /// Which story: an indicator's, written for a period, for the community (`neighborhood`
    /// nil) or for one neighborhood.
    public struct Address: Sendable {
        public var indicator: String
        public var period: Period
        public var neighborhood: String?

        public init(indicator: String, period: Period, neighborhood: String?) {
            self.indicator = indicator
            self.period = period
            self.neighborhood = neighborhood
        }
    }

    /// One page of versions, newest first, and the cursor of the next page, if any.
    public struct Page: Sendable {
        public var items: [StoryVersion]
        public var nextCursor: Int?
    }

    private static let columns = Query(
        unsafeSQL: """
            id, indicator_code, neighborhood_code, period, story_behind_the_curve, partners, what_works, action_plan,
            key_id, saved_at, restored_from
            """)

    /// The story in force for `period`: the latest version of the latest period at or before it.
    ///
    /// A `period` of another type than the indicator's (a packet for a quarter over a monthly
    /// indicator) is read the same way: the latest period that has begun before `period` ends.
    public static func inForce(_ connection: Connection, indicator: String, period: Period, neighborhood: String? = nil)
        throws -> StoryVersion?
    {
        try connection.query(
            """
            SELECT \(columns) FROM story_versions
            WHERE indicator_code = \(indicator) AND neighborhood_code = \(neighborhood ?? "")
              AND period_start < \(period.end)
            ORDER BY period_start DESC, id DESC LIMIT 1
            """
        ).first.map(decode)
    }

    /// Every active indicator of `agenda`, in code order, with the story in force for
    /// `period` (of any period type), or nil; 404 for an unknown agenda.
    public static func inForce(_ connection: Connection, agenda: String, period: Period, neighborhood: String?)
        throws -> [(indicator: String, story: StoryVersion?)]
    {
        guard try !connection.query("SELECT 1 FROM agendas WHERE id = \(agenda)").isEmpty else {
            throw DomainError.notFound("No agenda \(agenda).")
        }
        if let neighborhood { try NarrativeScope.checkNeighborhood(connection, neighborhood, writing: false) }
        return try IndicatorStore.list(connection, activeIn: agenda).map {
            ($0.code, try inForce(connection, indicator: $0.code, period: period, neighborhood: neighborhood))
        }
    }

    /// The story in force for `address` after checking it: an unknown indicator is a 404,
    /// a period of another type or an unknown neighborhood a 422, no story in force a 404.
    public static func story(_ connection: Connection, _ address: Address) throws -> StoryVersion {
        try check(connection, address, writing: false)
        guard
            let story = try inForce(
                connection, indicator: address.indicator, period: address.period, neighborhood: address.neighborhood)
        else {
            throw DomainError.notFound(
                "No story of \(address.indicator)\(place(address)) is in force for \(address.period).")
        }
        return story
    }

    /// Saves `text` as a new version for `address`; `first` says whether it is the first
    /// version written for that period.
    public static func save(_ connection: Connection, _ address: Address, text: StoryText, keyID: String) throws
        -> (version: StoryVersion, first: Bool)
    {
        try check(connection, address, writing: true)
        guard !text.isBlank else {
            throw DomainError.invalid(
                field: "story_behind_the_curve", code: "empty-story",
                "a story needs at least one of story_behind_the_curve, partners, what_works and action_plan")
        }
        let earlier = try connection.query(
            "SELECT 1 FROM story_versions WHERE \(exactly(address)) LIMIT 1")
        return (try insert(connection, address, text: text, restoredFrom: nil, keyID: keyID), earlier.isEmpty)
    }

    /// The versions written for exactly `address`'s period, newest first, before `cursor`.
    public static func history(_ connection: Connection, _ address: Address, before cursor: Int?, limit: Int) throws
        -> Page
    {
        try check(connection, address, writing: false)
        let before: Query = cursor.map { " AND id < \($0)" } ?? ""
        let rows = try connection.query(
            "SELECT \(columns) FROM story_versions WHERE \(exactly(address))\(before) ORDER BY id DESC LIMIT \(limit + 1)"
        )
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.id : nil)
    }

    /// Saves a new version for `address` with the text of `version` (404 unless that version
    /// was written for exactly `address`).
    public static func restore(_ connection: Connection, _ address: Address, version: Int, keyID: String) throws
        -> StoryVersion
    {
        try check(connection, address, writing: true)
        guard
            let old = try connection.query(
                "SELECT \(columns) FROM story_versions WHERE id = \(version) AND \(exactly(address))"
            ).first.map(decode)
        else {
            throw DomainError.notFound(
                "No version \(version) of the story of \(address.indicator)\(place(address)) for \(address.period).")
        }
        return try insert(connection, address, text: old.text, restoredFrom: old.id, keyID: keyID)
    }

    private static func check(_ connection: Connection, _ address: Address, writing: Bool) throws {
        let indicator = try NarrativeScope.indicator(connection, address.indicator, writing: writing, inPath: true)
        try NarrativeScope.check(address.period, of: indicator)
        if let neighborhood = address.neighborhood {
            try NarrativeScope.checkNeighborhood(connection, neighborhood, writing: writing)
        }
    }

    private static func insert(
        _ connection: Connection, _ address: Address, text: StoryText, restoredFrom: Int?, keyID: String
    ) throws -> StoryVersion {
        try decode(
            try connection.query(
                """
                INSERT INTO story_versions (indicator_code, neighborhood_code, period, period_start,
                    story_behind_the_curve, partners, what_works, action_plan, restored_from, key_id)
                VALUES (\(address.indicator), \(address.neighborhood ?? ""), \(address.period.description),
                    \(address.period.start), \(text.storyBehindTheCurve), \(text.partners), \(text.whatWorks),
                    \(text.actionPlan), \(restoredFrom), \(keyID))
                RETURNING \(columns)
                """)[0])
    }

    /// The versions written for exactly this indicator, neighborhood and period.
    private static func exactly(_ address: Address) -> Query {
        """
        indicator_code = \(address.indicator) AND neighborhood_code = \(address.neighborhood ?? "")
        AND period = \(address.period.description)
        """
    }

    private static func place(_ address: Address) -> String {
        address.neighborhood.map { " in \($0)" } ?? ""
    }

    private static func decode(_ row: Row) throws -> StoryVersion {
        let (id, indicator, neighborhood, period, story, partners, whatWorks, actionPlan, keyID) =
            try row.decode((Int, String, String, String, String, String, String, String, String).self)
        return StoryVersion(
            id: id, indicator: indicator, neighborhood: neighborhood.isEmpty ? nil : neighborhood,
            writtenFor: try NarrativeScope.storedPeriod(period, column: "story_versions.period"),
            storyBehindTheCurve: story, partners: partners, whatWorks: whatWorks, actionPlan: actionPlan,
            savedBy: keyID, savedAt: try row.decode(Date.self, at: 9), restoredFrom: try row.decode(Int?.self, at: 10))
    }
}
