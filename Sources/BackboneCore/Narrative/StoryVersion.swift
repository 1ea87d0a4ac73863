import Aggregation
import Foundation

/// The four parts of a story behind the curve (Results-Based Accountability's questions),
/// each plain text with paragraphs separated by blank lines.
public struct StoryText: Sendable, Equatable {
    /// Why the curve looks as it does.
    public var storyBehindTheCurve: String
    /// The partners with a role to play.
    public var partners: String
    /// What works, or could.
    public var whatWorks: String
    /// What the partners will do.
    public var actionPlan: String

    /// The most characters (Unicode code points) each part may hold.
    public static let maximumLength = 10_000

    public init(
        storyBehindTheCurve: String = "", partners: String = "", whatWorks: String = "", actionPlan: String = ""
    ) {
        self.storyBehindTheCurve = storyBehindTheCurve
        self.partners = partners
        self.whatWorks = whatWorks
        self.actionPlan = actionPlan
    }

    /// Whether every part is empty or only white space: not a story.
    public var isBlank: Bool {
        [storyBehindTheCurve, partners, whatWorks, actionPlan].allSatisfy {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }
}

/// One saved version of the story of an indicator (for the community, or for one
/// neighborhood) written for one period. Versions are never changed: a save, and a restore,
/// adds one (docs/stories.md).
public struct StoryVersion: Sendable {
    public var id: Int
    public var indicator: String
    /// The neighborhood whose own story this is; `nil` for the community's.
    public var neighborhood: String?
    /// The period the story was written for.
    public var writtenFor: Period
    public var storyBehindTheCurve, partners, whatWorks, actionPlan: String
    /// The key that saved it.
    public var savedBy: String
    public var savedAt: Date
    /// The version whose text a restore copied.
    public var restoredFrom: Int?

    /// Whether it was written for a period that ended before `period` ends: an earlier
    /// period's story standing for a later one.
    public func isStale(for period: Period) -> Bool {
        writtenFor.end < period.end
    }

    /// The four parts as one value.
    public var text: StoryText {
        StoryText(
            storyBehindTheCurve: storyBehindTheCurve, partners: partners, whatWorks: whatWorks, actionPlan: actionPlan)
    }
}
