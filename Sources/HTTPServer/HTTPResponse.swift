import Foundation
import JSON
import NIOCore
import NIOHTTP1

/// A response a handler returns; the server adds `Content-Length`, `X-Request-Id` and `Connection`.
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// A body produced while it is sent (chunked transfer), instead of `body`: the server
    /// calls it once with a writer and awaits each write, so memory stays constant.
    public var stream: BodyStream?
    /// The problem `code` when the response renders a problem (for the request log).
    public var problemCode: String?

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

    /// A value as JSON (its `json` already spells the wire's snake_case names), with an
    /// optional `Location`.
    public static func json(_ value: some JSONRepresentable, status: HTTPResponseStatus = .ok, location: String? = nil)
        -> HTTPResponse
    {
        var response = HTTPResponse(status: status, contentType: "application/json", body: value.json.jsonBytes)
        if let location { response.headers.add(name: "location", value: location) }
        return response
    }
}

/// Produces a streamed body by calling `write` with each chunk, in order.
public typealias BodyStream = @Sendable (BodyWriter) async throws -> Void

/// Sends one chunk of a streamed body; returns once the chunk is handed to the socket,
/// so a producer that awaits each write never runs ahead of a slow client.
public struct BodyWriter: Sendable {
    let send: @Sendable (ByteBuffer) async throws -> Void

    public init(_ send: @escaping @Sendable (ByteBuffer) async throws -> Void) {
        self.send = send
    }

    public func write(_ chunk: ByteBuffer) async throws {
        guard chunk.readableBytes > 0 else { return }
        try await send(chunk)
    }

    public func write(_ text: String) async throws {
        try await write(ByteBuffer(string: text))
    }
}

extension HTTPResponse {
    /// A streamed response: `produce` writes the body chunk by chunk (chunked transfer).
    public static func streaming(contentType: String, headers: HTTPHeaders = [:], _ produce: @escaping BodyStream)
        -> HTTPResponse
    {
        var response = HTTPResponse(status: .ok, headers: headers)
        response.headers.replaceOrAdd(name: "content-type", value: contentType)
        response.stream = produce
        return response
    }
}
