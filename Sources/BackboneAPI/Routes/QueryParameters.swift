import Aggregation
import BackboneCore
import HTTPServer

/// The query parameters several routes share (reports, the measurement listing), read
/// strictly: a malformed value is a 400 naming the parameter.
enum QueryParameters {
    /// A parameter that must be present and not empty.
    static func required(_ request: HTTPRequest, _ name: String) throws -> String {
        guard let value = request.query(name), !value.isEmpty else {
            throw Problem.badRequest("\(name) is required.", field: name, code: "required")
        }
        return value
    }

    /// A period (`2026`, `2026-Q3`, `2026-10`, `2026-W05`); `nil` when absent and not `required`.
    static func period(_ request: HTTPRequest, _ name: String, required: Bool = false) throws -> Period? {
        guard let text = request.query(name) else {
            if required { throw Problem.badRequest("\(name) is required.", field: name, code: "required") }
            return nil
        }
        guard let period = Period(text) else {
            throw Problem.badRequest(
                "\(name) must be a period such as 2026, 2026-Q3, 2026-10 or 2026-W05.", field: name,
                code: "malformed-period")
        }
        return period
    }

    /// `period=`, or `from=`/`to=` (either may be absent; `to` not before `from`).
    static func range(_ request: HTTPRequest) throws -> Reports.PeriodRange {
        if let single = try period(request, "period") { return Reports.PeriodRange(from: single, to: single) }
        let range = Reports.PeriodRange(from: try period(request, "from"), to: try period(request, "to"))
        if let from = range.from, let to = range.to, to.end <= from.start {
            throw Problem.badRequest("to must not come before from.", field: "to", code: "empty-range")
        }
        try range.checkSpan()
        return range
    }

    /// `by=`: the groupings in the order given, each once.
    static func groupings(_ request: HTTPRequest) throws -> [Grouping] {
        guard let text = request.query("by"), !text.isEmpty else { return [] }
        var groupings: [Grouping] = []
        for part in text.split(separator: ",") {
            guard let grouping = Grouping(String(part)), !groupings.contains(grouping) else {
                throw Problem.badRequest(
                    "by takes neighborhood, partner, period and dimension:NAME, each once, separated by commas.",
                    field: "by", code: "invalid-grouping")
            }
            groupings.append(grouping)
        }
        return groupings
    }

    /// `period_type=`: the period type to report by.
    static func periodType(_ request: HTTPRequest) throws -> PeriodType? {
        guard let text = request.query("period_type") else { return nil }
        guard let type = PeriodType(rawValue: text) else {
            throw Problem.badRequest(
                "period_type must be week, month, quarter or year.", field: "period_type", code: "invalid-period-type")
        }
        return type
    }

    /// `level=`: a depth in the neighborhood tree.
    static func level(_ request: HTTPRequest) throws -> Int? {
        guard let text = request.query("level") else { return nil }
        guard let level = Int(text), (0...20).contains(level) else {
            throw Problem.badRequest(
                "level is a depth in the neighborhood tree, 0 for the top.", field: "level", code: "invalid-level")
        }
        return level
    }

    /// `cursor=` as an id (the listings ordered by id).
    static func idCursor(_ request: HTTPRequest) throws -> Int? {
        try request.query("cursor").map { text -> Int in
            guard let cursor = Int(text) else {
                throw Problem.badRequest("The cursor is not valid.", field: "cursor", code: "invalid-cursor")
            }
            return cursor
        }
    }

    /// The partner a listing reads: a partner key's own (asking for another is a 403 naming
    /// `what`), else `asked`.
    static func partner(asked: String?, caller: Caller, reading what: String) throws -> String? {
        guard let own = caller.key.partner else { return asked }
        if let asked, asked != own {
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A partner key reads only its own partner's \(what).")
        }
        return own
    }
}
