import Foundation
import NIOCore
import NIOHTTP1

/// A response a handler returns; the server adds `Content-Length`, `X-Request-Id` and `Connection`.
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A body of bytes with a content type.
    public init(status: HTTPResponseStatus = .ok, contentType: String, body: some Sequence<UInt8>) {
        self.init(status: status, headers: ["content-type": contentType], body: ByteBuffer(bytes: body))
    }

    /// Plain text.
    public static func text(_ text: String, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: text.utf8)
    }

    /// A value encoded as JSON with snake_case keys already spelled by its `CodingKeys`.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) throws -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: try JSONCoding.encoder.encode(value))
    }
}

/// The JSON settings every handler shares.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
