import Aggregation
import BackboneCore
import Dashboard
import HTTPServer
import JSON

extension Publication: JSONRepresentable {
    /// A publication's record; its frozen packet is at `links.json` and `links.html`.
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "agenda": .string(agenda), "period": .string(period.description),
            "title": .string(title), "audience": .string(audience.rawValue), "json_sha256": .string(jsonSHA256),
            "html_sha256": .string(htmlSHA256), "published_by": .string(publishedBy),
            "published_at": JSONValue(publishedAt),
            "links": .object([
                "json": .string("/v1/publications/\(id)"), "html": .string("/v1/publications/\(id)?format=html"),
            ]),
        ])
    }
}

/// A publication request: `{"agenda", "period", "title", "audience"}`, every field required.
struct PublicationBody: Sendable {
    var agenda: String
    var period: Period
    var title: String
    var audience: BoardPacket.Audience

    /// The longest title accepted.
    static let maxTitleLength = 200

    static func read(_ body: [String: JSONValue]) throws -> PublicationBody {
        var reader = FieldReader(body)
        let agenda = reader.slug("agenda", required: true)
        let periodText = reader.string("period", required: true, maxLength: 16)
        let title = reader.string("title", required: true, maxLength: maxTitleLength)
        let audience = reader.choice("audience", BoardPacket.Audience.self, required: true)
        var period: Period?
        if let periodText {
            period = Period(periodText)
            if period == nil {
                reader.fail("period", "malformed-period", "must be a period such as 2026, 2026-Q3, 2026-10 or 2026-W05")
            }
        }
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty, let agenda, let period, let title, let audience else {
            throw DomainError.invalid(reader.issues)
        }
        return PublicationBody(agenda: agenda, period: period, title: title, audience: audience)
    }
}
