import Aggregation
import BackboneCore
import JSON

/// A story version as the wire spells it, answering for `period` (the period asked; the
/// version's own `written_for` when it is not an answer to "which story is in force").
struct StoryJSON: JSONRepresentable {
    var version: StoryVersion
    var period: Period

    init(_ version: StoryVersion, for period: Period? = nil) {
        self.version = version
        self.period = period ?? version.writtenFor
    }

    var json: JSONValue {
        .object([
            "indicator": .string(version.indicator), "neighborhood": JSONValue(version.neighborhood),
            "period": .string(period.description), "written_for": .string(version.writtenFor.description),
            "stale": .bool(version.isStale(for: period)), "version": JSONValue(version.id),
            "story_behind_the_curve": .string(version.storyBehindTheCurve), "partners": .string(version.partners),
            "what_works": .string(version.whatWorks), "action_plan": .string(version.actionPlan),
            "saved_by": .string(version.savedBy), "saved_at": JSONValue(version.savedAt),
            "restored_from": JSONValue(version.restoredFrom),
        ])
    }
}

/// An agenda's stories in force for a period: those of the indicators that have one, and
/// the codes of those that have none.
struct StoriesInForceJSON: JSONRepresentable {
    var agenda: String
    var period: Period
    var neighborhood: String?
    var stories: [(indicator: String, story: StoryVersion?)]

    var json: JSONValue {
        .object([
            "agenda": .string(agenda), "period": .string(period.description), "neighborhood": JSONValue(neighborhood),
            "items": .array(stories.compactMap { $0.story.map { StoryJSON($0, for: period).json } }),
            "without_story": .array(stories.filter { $0.story == nil }.map { .string($0.indicator) }),
        ])
    }
}

/// Reads a story's body: the four parts, each optional (missing or null is empty text), at
/// most `StoryText.maximumLength` characters each; any other field is refused.
enum StoryBody {
    static func text(_ body: [String: JSONValue]) throws -> StoryText {
        var reader = FieldReader(body)
        let part = { (name: String, reader: inout FieldReader) in
            reader.string(name, maxLength: StoryText.maximumLength) ?? ""
        }
        let text = StoryText(
            storyBehindTheCurve: part("story_behind_the_curve", &reader), partners: part("partners", &reader),
            whatWorks: part("what_works", &reader), actionPlan: part("action_plan", &reader))
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
        return text
    }
}
