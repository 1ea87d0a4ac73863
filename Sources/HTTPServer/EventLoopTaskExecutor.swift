import NIOCore

/// Runs a request's task on the event loop of its connection.
///
/// An unstructured task on the global executor cost two thread hand-offs per request
/// (event loop → cooperative pool → event loop), each a wake-up of a sleeping thread.
/// With this executor as the task's preference, a handler runs on the loop that read the
/// request and resumes there after each `await` (database work still runs on the pool's
/// threads). The price is that a handler's CPU work holds the loop's other connections
/// meanwhile, as in any NIO server.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

extension EventLoop {
    /// Runs `body` as a task on this loop (see `EventLoopTaskExecutor`) and completes the
    /// future with its result, on this loop. Called on the loop.
    ///
    /// The task starts at once, on the calling thread (`Task.immediate`), and runs until
    /// it first suspends: a handler that never waits (`/healthz`, a cached registry read)
    /// answers inside the `channelRead` that completed its request, as NIO's own example
    /// does. A response that came a loop turn later made NIO's pipelining handler hold
    /// the read and drop, then restore, the socket's read interest: two `epoll_ctl` calls
    /// and an extra loop turn per request.
    func runTask<T: Sendable>(on executor: EventLoopTaskExecutor, _ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        Task.immediate(executorPreference: executor) {
            promise.succeed(await body())
        }
        return promise.futureResult
    }
}
