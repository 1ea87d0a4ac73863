import Foundation
import NIOCore
import NIOHTTP1

/// A complete HTTP request as handlers see it: head, body, path parameters and a request id.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query string, e.g. `/v1/indicators/esl_learners`.
    public var path: String
    /// Query parameters in order of appearance, percent-decoded.
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// Values captured by `{name}` segments of the matched route.
    public var parameters: [String: String] = [:]
    /// Echoed as `X-Request-Id` and attached to every log line about this request.
    public var id: String
    /// The representation to answer with, negotiated from `?format=` and `Accept` by the route's contract.
    public var representation: Representation = .json
    /// The matched route's template (`/v1/indicators/{code}`), once routed.
    public var route: String?
    /// What handlers learn about the request that the request log reports (the caller's key).
    public let notes = RequestNotes()

    public init(
        method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer(), id: String? = nil
    ) {
        self.method = method
        let (path, query) = Self.split(uri: uri)
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.id = id ?? Self.acceptedRequestID(headers.first(name: "x-request-id")) ?? Self.newRequestID()
    }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// A path parameter the route promised; a missing one is a routing bug.
    public func parameter(_ name: String) -> String {
        guard let value = parameters[name] else { preconditionFailure("route has no parameter named \(name)") }
        return value
    }

    /// The media type of the body, lowercased, without parameters (`text/csv`).
    public var contentType: String? {
        headers.first(name: "content-type").map {
            $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
    }

    static func split(uri target: String) -> (String, [(name: String, value: String)]) {
        let uri = originForm(target)
        // The first "?" byte ends the path (searched as bytes: a search by characters was 1 % of `/healthz`).
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, []) }
        let path = String(uri[..<mark])
        let pairs = uri[uri.index(after: mark)...].split(separator: "&").map { pair -> (name: String, value: String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
        }
        return (path, pairs)
    }

    /// The origin form (`/path?query`) of a request target; an absolute-form target
    /// (`http://host/path?query`, RFC 9112 §3.2.2, as proxies send) loses its scheme and authority.
    static func originForm(_ target: String) -> String {
        guard target.utf8.first != UInt8(ascii: "/") else { return target }
        let lowered = target.prefix(8).lowercased()
        let scheme = lowered.hasPrefix("http://") ? 7 : lowered.hasPrefix("https://") ? 8 : 0
        guard scheme > 0 else { return target }
        let afterScheme = target.utf8.index(target.utf8.startIndex, offsetBy: scheme)
        let rest = target[afterScheme...]
        guard let end = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) else {
            return "/"
        }
        let tail = String(rest[end...])
        return tail.hasPrefix("?") ? "/" + tail : tail
    }

    /// Accepts a caller's request id if it is short and plain, so ids can be traced across services.
    static func acceptedRequestID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") })
        else { return nil }
        return value
    }

    static func newRequestID() -> String {
        RequestID.next()
    }
}

/// Facts a handler learns while it works on a request (who the caller is) and the
/// request log reports afterwards. One request's handler writes it, one at a time,
/// before the responder reads it: the writes happen-before the read through the await.
public final class RequestNotes: @unchecked Sendable {
    /// The id of the API key that authenticated the request (never its secret).
    public var keyID: String?
    /// The partner the key is bound to.
    public var partner: String?

    init() {}
}
