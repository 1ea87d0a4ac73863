/// What the application decides at the edge, before and after its handlers run.
///
/// `admit` sees a request's head (its body still unread) when the request carries a
/// body: refusing there (401, 403) costs the server nothing, however large the body.
/// It returns the body limit for the request's route when that is below the server's
/// `maxBodySize` (`nil`: the server's), so a body the route would refuse is refused on
/// its declared length, or as soon as a chunked body passes the limit, not after it is read.
/// `problem` turns an error a handler threw into the answer a client can act on
/// (for example an unreachable database into 503 with `Retry-After`); anything it does
/// not recognise stays a 500.
public struct RequestPolicy: Sendable {
    public var admit: @Sendable (HTTPRequest) async throws -> Int?
    public var problem: @Sendable (any Error) -> Problem?

    public init(
        admit: @escaping @Sendable (HTTPRequest) async throws -> Int? = { _ in nil },
        problem: @escaping @Sendable (any Error) -> Problem? = { _ in nil }
    ) {
        self.admit = admit
        self.problem = problem
    }
}
