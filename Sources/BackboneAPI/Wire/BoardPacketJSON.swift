import Aggregation
import Dashboard
import DomainModel
import JSON

/// A board packet on the wire (`GET /v1/reports/board-packet`, and the JSON a publication
/// freezes), and what a frozen one printed, read back to compare the next packet with it.
enum BoardPacketJSON {
    static func json(_ packet: BoardPacket) -> JSONValue {
        .object([
            "agenda": .object([
                "id": .string(packet.agenda.id), "name": .string(packet.agenda.name),
                "vision": JSONValue(packet.agenda.vision),
            ]),
            "period": .string(packet.period.description), "audience": .string(packet.audience.rawValue),
            "title": JSONValue(packet.title), "published_at": JSONValue(packet.publishedAt),
            "summary": .object([
                "indicators": JSONValue(packet.pages.count), "on_track": JSONValue(packet.onTrack),
                "improving": JSONValue(packet.improving),
            ]),
            "since_last": packet.sinceLast.map(json) ?? .null,
            "indicators": .array(packet.pages.map(json)),
        ])
    }

    static func json(_ page: BoardPacket.Page) -> JSONValue {
        var members = ScorecardWriter.json(page.panel.line).objectValue ?? [:]
        members["reporting_period"] = JSONValue(page.period?.description)
        members["series"] = .array(
            page.panel.series.map { cell in
                .object([
                    "period": JSONValue(cell.key["period"]), "value": JSONValue(cell.value),
                    "suppressed": .bool(cell.suppressed),
                ])
            })
        members["neighborhoods"] = .array(EquityWriter.rows(page.panel.neighborhoods))
        let comparison =
            page.panel.neighborhoods.first?.comparison
            ?? EquityComparison(page.panel.line.indicator.profile, communityPopulation: nil)
        members["equity_compared"] = .string(comparison.name)
        members["target_per_1000"] = JSONValue(comparison.targetPer1000)
        members["story"] = page.story.map(json) ?? .null
        members["quotes"] = .array(page.quotes.map(json))
        members["actions"] = .array(page.actions.map(json))
        members["completeness"] = page.completeness.map(json) ?? .null
        // The scorecard's count of every standing flag gives way to the packet's, up to its period.
        members["open_flags"] = page.openFlags.map { JSONValue($0.total) }
        if let flags = page.openFlags { members["oldest_open_flags"] = .array(flags.oldest.map(json)) }
        return .object(members)
    }

    static func json(_ story: BoardPacket.Story) -> JSONValue {
        .object([
            "written_for": .string(story.writtenFor.description), "stale": .bool(story.stale),
            "story_behind_the_curve": .string(story.storyBehindTheCurve), "partners": .string(story.partners),
            "what_works": .string(story.whatWorks), "action_plan": .string(story.actionPlan),
            "saved_at": .string(story.savedAt),
        ])
    }

    static func json(_ quote: BoardPacket.Quote) -> JSONValue {
        .object([
            "partner": .string(quote.partner), "partner_name": .string(quote.partnerName),
            "period": .string(quote.period.description), "text": .string(quote.text),
        ])
    }

    static func json(_ action: BoardPacket.Action) -> JSONValue {
        .object([
            "id": JSONValue(action.id), "title": .string(action.title), "owner": .string(action.owner),
            "owner_name": .string(action.ownerName), "due": .string(action.due.description),
            "status": .string(action.status), "overdue": .bool(action.overdue), "note": .string(action.note),
        ])
    }

    static func json(_ completeness: BoardPacket.Completeness) -> JSONValue {
        var object: [String: JSONValue] = [
            "period": .string(completeness.period.description),
            "committed": JSONValue(completeness.committed), "reported": JSONValue(completeness.reported),
        ]
        if let missing = completeness.missing { object["missing"] = JSONValue(missing) }
        return .object(object)
    }

    static func json(_ flag: QualityPanel.Line) -> JSONValue {
        .object([
            "id": JSONValue(flag.id), "partner": .string(flag.partner), "neighborhood": .string(flag.neighborhood),
            "period": .string(flag.period), "kind": .string(flag.kind), "message": .string(flag.message),
            "status": .string(flag.status),
        ])
    }

    static func json(_ comparison: BoardPacket.Comparison) -> JSONValue {
        func headline(_ headline: BoardPacket.Headline?) -> JSONValue {
            guard let headline else { return .null }
            return .object([
                "period": JSONValue(headline.period?.description), "value": JSONValue(headline.value),
                "on_track": JSONValue(headline.onTrack),
            ])
        }
        return .object([
            "publication": JSONValue(comparison.publication), "title": .string(comparison.title),
            "published_at": .string(comparison.publishedAt), "period": .string(comparison.period.description),
            "changes": .array(
                comparison.changes.map { change in
                    .object([
                        "indicator": .string(change.indicator), "name": .string(change.name),
                        "before": headline(change.before), "after": headline(change.after),
                    ])
                }),
            "revisions": .array(
                comparison.revisions.map { revision in
                    .object([
                        "indicator": .string(revision.indicator), "name": .string(revision.name),
                        "period": .string(revision.period.description), "before": .number(revision.before),
                        "after": JSONValue(revision.after),
                    ])
                }),
        ])
    }

    /// What a packet printed of one indicator: its headline and its values by period.
    struct Printed {
        var headline: BoardPacket.Headline
        var values: [Period: Double]
    }

    /// Indicator code → what a stored packet's JSON printed of it.
    static func printed(_ document: JSONValue) -> [String: Printed] {
        guard case .array(let indicators)? = document.objectValue?["indicators"] else { return [:] }
        var printed: [String: Printed] = [:]
        for case .object(let indicator) in indicators {
            guard case .string(let code)? = indicator["indicator"] else { continue }
            var values: [Period: Double] = [:]
            if case .array(let series)? = indicator["series"] {
                for case .object(let point) in series {
                    if case .string(let text)? = point["period"], let period = Period(text),
                        case .number(let value)? = point["value"]
                    {
                        values[period] = value
                    }
                }
            }
            let period: Period? = if case .string(let text)? = indicator["period"] { Period(text) } else { nil }
            let value: Double? = if case .number(let number)? = indicator["value"] { number } else { nil }
            let onTrack: Bool? = if case .bool(let flag)? = indicator["on_track"] { flag } else { nil }
            printed[code] = Printed(
                headline: BoardPacket.Headline(period: period, value: value, onTrack: onTrack), values: values)
        }
        return printed
    }

    /// What changed between the packet `previous` printed and `packet`: headlines that moved
    /// and values of a period both show that differ (a relative 1e-9 is the same value).
    static func comparison(
        of packet: BoardPacket, with previous: JSONValue, publication: Int, title: String, publishedAt: String,
        period: Period
    ) -> BoardPacket.Comparison {
        let before = printed(previous)
        var changes: [BoardPacket.Change] = []
        var revisions: [BoardPacket.Revision] = []
        for page in packet.pages {
            let line = page.panel.line, info = page.panel.line.indicator
            let now = BoardPacket.Headline(
                period: line.latestPeriod, value: line.latest?.suppressed == true ? nil : line.latest?.value,
                onTrack: line.onTrack)
            let then = before[info.code]
            if then?.headline != now {
                changes.append(
                    BoardPacket.Change(indicator: info.code, name: info.name, before: then?.headline, after: now))
            }
            guard let then else { continue }
            var current: [Period: Cell] = [:]
            for cell in page.panel.series {
                if let period = cell.key["period"].flatMap(Period.init) { current[period] = cell }
            }
            // Only periods this packet covers: an earlier packet for a later period showed more.
            for (period, old) in then.values.sorted(by: { $0.key < $1.key }) where period.end <= packet.period.end {
                let new = current[period]
                // A value now withheld is not a revision: it says nothing about the number.
                if new?.suppressed == true { continue }
                if let value = new?.value, abs(value - old) <= 1e-9 * max(abs(value), abs(old)) { continue }
                revisions.append(
                    BoardPacket.Revision(
                        indicator: info.code, name: info.name, period: period, before: old, after: new?.value))
            }
        }
        return BoardPacket.Comparison(
            publication: publication, title: title, publishedAt: publishedAt, period: period, changes: changes,
            revisions: revisions)
    }
}
