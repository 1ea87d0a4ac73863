import Foundation

/// Who has reported what they committed to, for one period.
public struct CompletenessReport: Sendable {
    /// One commitment: whether its partner reported the indicator (for its neighborhood, if it names one).
    public struct Entry: Sendable {
        public var partner: String
        public var indicator: String
        public var neighborhood: String?
        public var reported: Bool
        public var measurements: Int
        /// The day the period's numbers are due (`YYYY-MM-DD`: its last day plus the agenda's `reporting_due_days`).
        public var due: String?
        /// The reminders sent to the partner for this indicator in the period, oldest first.
        public var reminders: [Reminder]

        public init(
            partner: String, indicator: String, neighborhood: String?, reported: Bool, measurements: Int,
            due: String? = nil, reminders: [Reminder] = []
        ) {
            self.partner = partner
            self.indicator = indicator
            self.neighborhood = neighborhood
            self.reported = reported
            self.measurements = measurements
            self.due = due
            self.reminders = reminders
        }
    }

    /// A reminder that went out: `due` (before the due date) or `overdue` (after it).
    public struct Reminder: Sendable, Equatable {
        public var stage: String
        public var sentAt: Date

        public init(stage: String, sentAt: Date) {
            self.stage = stage
            self.sentAt = sentAt
        }
    }

    /// The share of one partner's or one indicator's commitments that were reported.
    public struct Rate: Sendable {
        public var id: String
        public var committed: Int
        public var reported: Int
        public var rate: Double

        public init(id: String, committed: Int, reported: Int, rate: Double) {
            self.id = id
            self.committed = committed
            self.reported = reported
            self.rate = rate
        }
    }

    public var agenda: String
    public var period: String
    public var committed: Int
    public var reported: Int
    public var rate: Double?
    public var entries: [Entry]
    public var partners: [Rate]
    public var indicators: [Rate]

    public init(
        agenda: String, period: String, committed: Int, reported: Int, rate: Double?, entries: [Entry],
        partners: [Rate], indicators: [Rate]
    ) {
        self.agenda = agenda
        self.period = period
        self.committed = committed
        self.reported = reported
        self.rate = rate
        self.entries = entries
        self.partners = partners
        self.indicators = indicators
    }
}
