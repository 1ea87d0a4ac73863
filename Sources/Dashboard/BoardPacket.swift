import Aggregation
import DomainModel

/// Everything a board packet shows, gathered by the caller for one audience: a cover (the
/// agenda, the period, how many indicators are on track and improving, what changed since
/// the last packet), then a page per indicator. The packet only draws it; its JSON is
/// written from the same model, so the two never disagree.
public struct BoardPacket: Sendable {
    /// Who the numbers were computed for.
    public enum Audience: String, Sendable, CaseIterable {
        /// Live data, every cell, the partners behind completeness, open data-quality flags.
        case coordinator
        /// As a viewer key sees the data: small cells withheld, released periods where
        /// releases exist; completeness as counts only, no flags.
        case `public`
    }

    public var agenda: DashboardModel.Agenda
    public var period: Period
    public var audience: Audience
    /// A publication's title and moment (`2026-11-25T23:43:01Z`); `nil` for a packet computed on request.
    public var title: String?
    public var publishedAt: String?
    public var pages: [Page]
    /// The previous publication of the agenda for the same audience, and what changed since; `nil` without one.
    public var sinceLast: Comparison?

    public init(
        agenda: DashboardModel.Agenda, period: Period, audience: Audience, title: String? = nil,
        publishedAt: String? = nil, pages: [Page], sinceLast: Comparison? = nil
    ) {
        self.agenda = agenda
        self.period = period
        self.audience = audience
        self.title = title
        self.publishedAt = publishedAt
        self.pages = pages
        self.sinceLast = sinceLast
    }

    /// Indicators whose pace reaches their target.
    public var onTrack: Int { pages.filter { $0.panel.line.onTrack == true }.count }
    /// Indicators whose latest value moved the better way.
    public var improving: Int { pages.filter { $0.panel.line.improving == true }.count }

    /// One indicator's page.
    public struct Page: Sendable {
        /// The scorecard line, the series up to the packet's period and the equity view of
        /// the latest period in it.
        public var panel: IndicatorPanel
        /// The indicator's own period the packet's period ends with (`2026-09` of `2026-Q3` for
        /// a monthly indicator): what its story and completeness are for.
        public var period: Period?
        public var story: Story?
        /// Partners' contributions the coordinator chose to quote, for the indicator's periods
        /// inside the packet's (or its reporting period).
        public var quotes: [Quote]
        public var actions: [Action]
        /// The commitments to the indicator for its latest period in the packet; `nil` without commitments.
        public var completeness: Completeness?
        /// Standing data-quality flags on the indicator (the coordinator's packet only).
        public var openFlags: OpenFlags?

        public init(
            panel: IndicatorPanel, period: Period?, story: Story? = nil, quotes: [Quote] = [], actions: [Action] = [],
            completeness: Completeness? = nil, openFlags: OpenFlags? = nil
        ) {
            self.panel = panel
            self.period = period
            self.story = story
            self.quotes = quotes
            self.actions = actions
            self.completeness = completeness
            self.openFlags = openFlags
        }
    }

    /// The story behind the curve in force for the packet's period.
    public struct Story: Sendable {
        /// The period it was written for: earlier than the page's period when no newer story exists.
        public var writtenFor: Period
        public var stale: Bool
        public var storyBehindTheCurve: String
        public var partners: String
        public var whatWorks: String
        public var actionPlan: String
        /// When the version in force was saved (`2026-11-25T23:43:01Z`).
        public var savedAt: String

        public init(
            writtenFor: Period, stale: Bool, storyBehindTheCurve: String, partners: String, whatWorks: String,
            actionPlan: String, savedAt: String
        ) {
            self.writtenFor = writtenFor
            self.stale = stale
            self.storyBehindTheCurve = storyBehindTheCurve
            self.partners = partners
            self.whatWorks = whatWorks
            self.actionPlan = actionPlan
            self.savedAt = savedAt
        }
    }

    /// A partner's words, quoted with its name.
    public struct Quote: Sendable {
        public var partner: String
        public var partnerName: String
        public var period: Period
        public var text: String

        public init(partner: String, partnerName: String, period: Period, text: String) {
            self.partner = partner
            self.partnerName = partnerName
            self.period = period
            self.text = text
        }
    }

    /// An action of the indicator's plan.
    public struct Action: Sendable {
        public var id: Int
        public var title: String
        public var owner: String
        public var ownerName: String
        public var due: Day
        /// `planned`, `in_progress`, `done` or `dropped`.
        public var status: String
        public var overdue: Bool
        public var note: String

        public init(
            id: Int, title: String, owner: String, ownerName: String, due: Day, status: String, overdue: Bool,
            note: String
        ) {
            self.id = id
            self.title = title
            self.owner = owner
            self.ownerName = ownerName
            self.due = due
            self.status = status
            self.overdue = overdue
            self.note = note
        }
    }

    /// Who of the partners committed to an indicator reported it for `period`.
    public struct Completeness: Sendable {
        public var period: Period
        public var committed: Int
        public var reported: Int
        /// The names of the committed partners still missing: the coordinator's packet only.
        public var missing: [String]?

        public init(period: Period, committed: Int, reported: Int, missing: [String]?) {
            self.period = period
            self.committed = committed
            self.reported = reported
            self.missing = missing
        }
    }

    /// The standing flags on an indicator: how many, and the oldest few.
    public struct OpenFlags: Sendable {
        public var total: Int
        public var oldest: [QualityPanel.Line]

        public init(total: Int, oldest: [QualityPanel.Line]) {
            self.total = total
            self.oldest = oldest
        }
    }

    /// The previous publication and what changed since it.
    public struct Comparison: Sendable {
        public var publication: Int
        public var title: String
        public var publishedAt: String
        public var period: Period
        /// Each indicator whose latest value, or whether it is on track, is not what the previous packet said.
        public var changes: [Change]
        /// Values of a period both packets show that differ: corrections since.
        public var revisions: [Revision]

        public init(
            publication: Int, title: String, publishedAt: String, period: Period, changes: [Change],
            revisions: [Revision]
        ) {
            self.publication = publication
            self.title = title
            self.publishedAt = publishedAt
            self.period = period
            self.changes = changes
            self.revisions = revisions
        }
    }

    /// An indicator's headline then and now.
    public struct Change: Sendable {
        public var indicator: String
        public var name: String
        public var before: Headline?
        public var after: Headline?

        public init(indicator: String, name: String, before: Headline?, after: Headline?) {
            self.indicator = indicator
            self.name = name
            self.before = before
            self.after = after
        }
    }

    /// An indicator's latest value and verdict as one packet printed them.
    public struct Headline: Sendable, Equatable {
        public var period: Period?
        public var value: Double?
        public var onTrack: Bool?

        public init(period: Period?, value: Double?, onTrack: Bool?) {
            self.period = period
            self.value = value
            self.onTrack = onTrack
        }
    }

    /// One value a later packet shows differently for the same period.
    public struct Revision: Sendable {
        public var indicator: String
        public var name: String
        public var period: Period
        public var before: Double
        public var after: Double?

        public init(indicator: String, name: String, period: Period, before: Double, after: Double?) {
            self.indicator = indicator
            self.name = name
            self.period = period
            self.before = before
            self.after = after
        }
    }
}

extension Period {
    /// The last period of `type` that ends by the end of this one: itself for its own type,
    /// `2026-09` of `2026-Q3` for months, `2026-Q2` of `2026-08` for quarters. What a packet
    /// for this period shows of an indicator of that type.
    public func lastPeriod(of type: PeriodType) -> Period? {
        if type == self.type { return self }
        if type > self.type {
            let holding = rolled(to: type)
            return holding.end <= end ? holding : holding.previous
        }
        guard var candidate = Period(type: type, year: year, index: 1)?.previous else { return nil }
        while let next = candidate.following, next.end <= end { candidate = next }
        return candidate
    }
}
