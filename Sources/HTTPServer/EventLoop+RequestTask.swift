import NIOCore

extension EventLoop {
    /// Runs `body` as a request's task and completes the future with its result, on this
    /// loop. Called on the loop.
    ///
    /// The task starts at once, on the calling thread (`Task.immediate`), and runs there
    /// until it first suspends: a handler that never waits answers inside the `channelRead`
    /// that completed its request, as NIO's own example does (a response a loop turn later
    /// made NIO's pipelining handler drop and restore the socket's read interest: two
    /// `epoll_ctl` calls per request). After its first suspension the task goes on in the
    /// global concurrent executor, not on this loop: what a handler computes after a
    /// database call (a report's aggregation and JSON, an export) never holds the loop's
    /// other connections.
    func runRequestTask<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        Task.immediate {
            promise.succeed(await body())
        }
        return promise.futureResult
    }
}
