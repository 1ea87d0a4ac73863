import NIOCore

extension EventLoop {
    /// Runs `body` as a request's task in the global concurrent executor and completes the
    /// future with its result, on this loop.
    ///
    /// No handler code runs on the loop: what a handler computes (parsing a 32 MiB
    /// submission, a report's aggregation and JSON, an export) never holds the loop's other
    /// connections. Answers that need no waiting (`/healthz`, a cached registry record) are
    /// given inside `channelRead` without a task (`Responder.respondImmediately`).
    func runRequestTask<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        Task {
            promise.succeed(await body())
        }
        return promise.futureResult
    }
}
