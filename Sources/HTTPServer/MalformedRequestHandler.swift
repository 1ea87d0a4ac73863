import NIOCore
import NIOHTTP1

/// Answers a request NIO's parser rejects with a 400 problem, then closes the connection.
///
/// Modelled on NIO's `HTTPServerProtocolErrorHandler`, which answers with an empty body;
/// every error of ours is `application/problem+json`. It learns whether a response is under
/// way from the request handler instead of watching every write (an inbound handler only,
/// responses do not pass through it).
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let requests: HTTPRequestHandler

    init(requests: HTTPRequestHandler) {
        self.requests = requests
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        // The parser cannot resynchronise, so the connection ends here; only a response
        // not yet started can still be sent first.
        guard !requests.hasUnterminatedResponse else {
            context.close(promise: nil)
            context.fireErrorCaught(error)
            return
        }
        do {
            let problem = Problem.badRequest("The request could not be parsed as HTTP/1.1 (\(error)).", code: "malformed-request")
            let response = problem.response()
            var headers = response.headers
            headers.replaceOrAdd(name: "connection", value: "close")
            headers.replaceOrAdd(name: "x-request-id", value: HTTPRequest.newRequestID())
            headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
            let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
