import FieldIssues
import Foundation
import JSON
import NIOCore
import NIOHTTP1

/// An error a client can act on, rendered as RFC 9457 `application/problem+json`.
///
/// Handlers throw these where the cause is known; the server renders them once.
/// `code` is a stable identifier scripts can switch on; `errors` lists every
/// offending field (and, in a batch, its row).
public struct Problem: Error, Sendable, JSONRepresentable {
    /// One offending input: which row (in a batch), which field, what is wrong.
    public typealias FieldError = FieldIssue

    public var status: HTTPResponseStatus
    public var code: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    /// Extra response headers, such as `Allow` on a 405.
    public var headers: HTTPHeaders
    /// Extra members of the document, such as `accepted` (the parameters a route takes).
    public var extensions: [String: ProblemExtension] = [:]

    public init(
        status: HTTPResponseStatus, code: String, title: String, detail: String? = nil,
        errors: [FieldError] = [], headers: HTTPHeaders = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// At most this many `errors` are listed; `error_count` gives the full number and
    /// `errors_truncated` says some were left out, so a body of a million bad rows
    /// cannot make a response (or the memory behind it) a million entries long.
    public static let maxListedErrors = 200

    /// The document: `type`, `title`, `status`, `code`, `detail` when given, `errors` with
    /// `error_count` (and `errors_truncated`) when there are any, and the extensions.
    public var json: JSONValue {
        var members = extensions.mapValues(\.json)
        members["type"] = .string("urn:backbone:problem:\(code)")
        members["title"] = .string(title)
        members["status"] = JSONValue(Int(status.code))
        members["code"] = .string(code)
        if let detail { members["detail"] = .string(detail) }
        if !errors.isEmpty { members.merge(Self.listing(errors)) { _, listed in listed } }
        return .object(members)
    }

    /// `errors` (the first `maxListedErrors`), `error_count` and, when some were left
    /// out, `errors_truncated`: how any document lists field errors.
    public static func listing(_ errors: [FieldError]) -> [String: JSONValue] {
        var members: [String: JSONValue] = [
            "errors": .array(errors.prefix(maxListedErrors).map(\.json)), "error_count": JSONValue(errors.count),
        ]
        if errors.count > maxListedErrors { members["errors_truncated"] = .bool(true) }
        return members
    }

    /// The response for this problem.
    public func response() -> HTTPResponse {
        var headers = self.headers
        headers.replaceOrAdd(name: "content-type", value: "application/problem+json")
        var response = HTTPResponse(status: status, headers: headers, body: ByteBuffer(bytes: json.jsonBytes))
        response.problemCode = code
        return response
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(status: .notFound, code: "not-found", title: "Not found", detail: what)
    }

    public static func badRequest(_ detail: String, field: String? = nil, code: String = "bad-request") -> Problem {
        Problem(
            status: .badRequest, code: code, title: "The request is malformed", detail: detail,
            errors: field.map { [FieldError(field: $0, code: code, message: detail)] } ?? [])
    }

    /// A body that is well-formed but whose fields are wrong; names every one.
    public static func invalid(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(
            status: .unprocessableEntity, code: "validation-failed", title: "The request has invalid fields",
            detail: detail ?? summary(of: errors),
            errors: errors)
    }

    /// The first few errors as one sentence, and how many more there are.
    public static func summary(of errors: [FieldError], listing limit: Int = 5) -> String {
        let listed = errors.prefix(limit).map { ($0.row.map { "row \($0): " } ?? "") + "\($0.field): \($0.message)" }
            .joined(separator: "; ")
        return errors.count > limit ? "\(listed); and \(errors.count - limit) more" : listed
    }

    public static func invalid(field: String, code: String = "invalid", _ message: String) -> Problem {
        invalid([FieldError(field: field, code: code, message: message)])
    }

    /// 408 `request-timeout`: the client did not send its request (`detail` says which part) in time.
    public static func requestTimeout(_ detail: String) -> Problem {
        Problem(status: .requestTimeout, code: "request-timeout", title: "Request timeout", detail: detail)
    }

    /// 503 `request-budget-exceeded`: the request (`what`) ran past the server's time budget and
    /// was cancelled. Retrying the same request may well fail again; asking for less will not.
    public static func budgetExceeded(_ what: String) -> Problem {
        Problem(
            status: .serviceUnavailable, code: "request-budget-exceeded", title: "Request took too long",
            detail: "\(what); nothing was changed. Ask for less (a shorter period range, one indicator) or try later.",
            headers: ["retry-after": "30"])
    }

    public static func conflict(_ detail: String, code: String = "conflict") -> Problem {
        Problem(status: .conflict, code: code, title: "The request conflicts with the current state", detail: detail)
    }
}

extension FieldIssue: JSONRepresentable {
    /// `row`, `line` and `position` appear only when known.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "field": .string(field), "code": .string(code), "message": .string(message),
        ]
        if let row { members["row"] = JSONValue(row) }
        if let line { members["line"] = JSONValue(line) }
        if let position { members["position"] = JSONValue(position) }
        return .object(members)
    }
}
