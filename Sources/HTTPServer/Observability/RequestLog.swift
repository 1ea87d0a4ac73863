import NIOHTTP1

/// One line per answered request: request id, method, route template, status,
/// duration, the caller's key id and partner (never the secret), and the problem
/// `code` of an error. Written at level `info`; off when the log level is higher.
public struct RequestLog: Sendable {
    public let format: LogFormat
    public let enabled: Bool

    public init(format: LogFormat = .text, enabled: Bool = true) {
        self.format = format
        self.enabled = enabled
    }

    /// No request lines at all.
    public static let disabled = RequestLog(enabled: false)

    func record(_ request: HTTPRequest, response: HTTPResponse, microseconds: Int, note: String? = nil) {
        guard enabled else { return }
        var line = LogLine(format: format, level: "info", message: note ?? "request")
        line.field("request_id", request.id)
        line.field("method", request.method.rawValue)
        line.field("route", request.route ?? "unmatched")
        if request.route == nil { line.field("path", request.path) }
        line.field("status", Int(response.status.code))
        line.field("duration_ms", thousandths: microseconds)
        line.field("key", request.notes.keyID)
        line.field("partner", request.notes.partner)
        line.field("code", response.problemCode)
        line.write()
    }
}
