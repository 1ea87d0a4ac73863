import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP client that speaks HTTP/1.1 by hand, so tests can send exactly the bytes a
/// real (or broken) client would: pipelined requests, garbage, half requests.
///
/// Its socket calls block, so each runs on a thread of its own: blocking the few
/// threads of Swift's cooperative pool would starve the server under test. One test
/// uses a client at a time.
public final class RawHTTPClient: @unchecked Sendable {
    /// A response as read off the wire.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object.
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    private let socket: Int32
    private var buffer = Data()

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` seconds.
    public init(port: Int, timeout: Double = 10) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            // No close here: `deinit` runs for a class whose init throws once every property
            // is set, and a second close could shut a descriptor the server under test has
            // been handed meanwhile (NIO then crashes on EBADF).
            throw Failure(description: "connect to port \(port) failed (errno \(errno))")
        }
    }

    deinit {
        close(socket)
    }

    /// Hangs up, as a client that gives up does (the descriptor is freed on deinit).
    public func disconnect() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Sends raw bytes.
    public func send(_ text: String) async throws {
        try await send(Data(text.utf8))
    }

    public func send(_ data: Data) async throws {
        try await onThread { try self.sendNow(data) }
    }

    private func sendNow(_ data: Data) throws {
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let sent = Glibc.send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure(description: "send failed (errno \(errno))") }
                offset += sent
            }
        }
    }

    /// Sends a well-formed request.
    public func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil
    ) async throws -> Response {
        try await send(Self.requestBytes(method, path, headers: headers, body: body))
        return try await readResponse()
    }

    /// The bytes of one request, for tests that pipeline or tamper with them.
    public static func requestBytes(
        _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil
    ) -> Data {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        var data = Data(text.utf8)
        if let body { data.append(body) }
        return data
    }

    /// Reads one response (headers, then a `Content-Length` body).
    public func readResponse() async throws -> Response {
        try await onThread { try self.readResponseNow() }
    }

    private func readResponseNow() throws -> Response {
        let headerEnd = try readUntil(Data("\r\n\r\n".utf8))
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeSubrange(..<(headerEnd + 4))
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line in \(head)")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }
        ) {
            return Response(status: status, headers: headers, body: try readChunkedBody())
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while buffer.count < length {
            guard try fill() else { throw Failure(description: "connection closed inside a body") }
        }
        let body = buffer.prefix(length)
        buffer.removeSubrange(..<(buffer.startIndex + length))
        return Response(status: status, headers: headers, body: Data(body))
    }

    /// A chunked body (RFC 9112 §7.1): size lines in hex, each chunk, a zero chunk, trailers.
    private func readChunkedBody() throws -> Data {
        var body = Data()
        while true {
            let lineEnd = try readUntil(Data("\r\n".utf8))
            let sizeLine = String(decoding: buffer[buffer.startIndex..<(buffer.startIndex + lineEnd)], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + lineEnd + 2))
            guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                throw Failure(description: "bad chunk size line \(sizeLine.debugDescription)")
            }
            if size == 0 {
                let trailerEnd = try readUntil(Data("\r\n".utf8))
                buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + trailerEnd + 2))
                return body
            }
            while buffer.count < size + 2 {
                guard try fill() else { throw Failure(description: "connection closed inside a chunk") }
            }
            body.append(buffer[buffer.startIndex..<(buffer.startIndex + size)])
            buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + size + 2))
        }
    }

    /// Whether the server closes the connection within the read timeout (true) or
    /// keeps it open (false). Any bytes sent meanwhile are returned through `leftover`.
    public func waitForClose() async throws -> Bool {
        try await onThread { try self.waitForCloseNow() }
    }

    private func waitForCloseNow() throws -> Bool {
        while true {
            do {
                if try !fill() { return true }
            } catch let failure as Failure where failure.description == "timeout" {
                return false
            }
        }
    }

    /// Bytes received but not yet consumed as a response.
    public var leftover: Data { buffer }

    private func readUntil(_ marker: Data) throws -> Int {
        while true {
            if let range = buffer.range(of: marker) { return range.lowerBound - buffer.startIndex }
            guard try fill() else { throw Failure(description: "connection closed before a complete response") }
        }
    }

    /// Reads more bytes; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &chunk, chunk.count, 0)
        if count == 0 { return false }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure(description: "timeout") }
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv failed (errno \(errno))")
        }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }
}

/// Runs blocking work on a thread of its own and awaits its result.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
