import Foundation
import NIOCore
import NIOHTTP1

/// An error a client can act on, rendered as RFC 9457 `application/problem+json`.
///
/// Handlers throw these where the cause is known; the server renders them once.
/// `code` is a stable identifier scripts can switch on; `errors` lists every
/// offending field (and, in a batch, its row).
public struct Problem: Error, Sendable, Encodable {
    /// One offending input: which row (in a batch), which field, what is wrong.
    public struct FieldError: Sendable, Encodable, Equatable {
        public var row: Int?
        /// In an uploaded file, the spreadsheet line of the row (data row 1 is line 2).
        public var line: Int?
        public var field: String
        public var code: String
        public var message: String

        public init(row: Int? = nil, line: Int? = nil, field: String, code: String, message: String) {
            self.row = row
            self.line = line
            self.field = field
            self.code = code
            self.message = message
        }
    }

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

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, code, errors, instance
        case errorCount = "error_count"
        case errorsTruncated = "errors_truncated"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("urn:backbone:problem:\(code)", forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(Int(status.code), forKey: .status)
        try container.encode(code, forKey: .code)
        try container.encodeIfPresent(detail, forKey: .detail)
        if !errors.isEmpty {
            try container.encode(Array(errors.prefix(Self.maxListedErrors)), forKey: .errors)
            try container.encode(errors.count, forKey: .errorCount)
            if errors.count > Self.maxListedErrors { try container.encode(true, forKey: .errorsTruncated) }
        }
        var members = encoder.container(keyedBy: ProblemExtensionKey.self)
        for (name, value) in extensions { try members.encode(value, forKey: ProblemExtensionKey(stringValue: name)) }
    }

    /// The response for this problem.
    public func response() -> HTTPResponse {
        var headers = self.headers
        headers.replaceOrAdd(name: "content-type", value: "application/problem+json")
        let body = (try? JSONCoding.encoder.encode(self)) ?? Data()
        var response = HTTPResponse(status: status, headers: headers, body: ByteBuffer(bytes: body))
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

    public static func conflict(_ detail: String, code: String = "conflict") -> Problem {
        Problem(status: .conflict, code: code, title: "The request conflicts with the current state", detail: detail)
    }

    /// Maps a JSON decoding failure to the field it concerns.
    public init(decoding error: DecodingError) {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.reduce(into: "") { text, key in
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self = .invalid(field: path(context, key), code: "required", "is required")
        case .valueNotFound(_, let context):
            self = .invalid(field: path(context), code: "required", "must not be null")
        case .typeMismatch(let type, let context):
            self = .invalid(field: path(context), code: "wrong-type", "must be \(Problem.describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self = .badRequest("The body is not valid JSON.", code: "malformed-json")
            } else {
                self = .invalid(field: path(context), code: "invalid", context.debugDescription)
            }
        @unknown default:
            self = .badRequest("The body could not be read.", code: "malformed-json")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Decimal.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
