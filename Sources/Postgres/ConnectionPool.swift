import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A fixed-size pool of libpq connections that runs their blocking calls on its own
/// threads, never on a NIO event loop.
///
/// Connections open lazily up to `size`. Callers waiting for one are served first come,
/// first served. A connection whose server went away is noticed when it is handed out
/// and reconnected before use, so a restart of the server (or terminated backends)
/// costs callers at most the one statement that was in flight.
public final class ConnectionPool: Sendable {
    public let size: Int
    /// Where the pool connects (for companions such as a `ChangeListener`).
    public let conninfo: String
    private let threads: NIOThreadPool
    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    private struct State {
        var idle: [Connection] = []
        var opened = 0
        var waiters = CircularBuffer<CheckedContinuation<Connection?, Error>>()
        var closed = false
        /// When opening a connection last failed, if no connection opened since.
        var connectFailedAt: ContinuousClock.Instant?
        /// When a failure to open a connection was last logged, if none opened since.
        var failureLoggedAt: ContinuousClock.Instant?
    }

    /// The longest one statement may run on the pool's connections; `nil`: the server's setting.
    public let statementTimeout: Duration?

    public init(
        conninfo: String, size: Int, statementTimeout: Duration? = nil,
        logger: Logger = Logger(label: "backbone.postgres")
    ) {
        precondition(size > 0, "a pool needs at least one connection")
        self.conninfo = conninfo
        self.statementTimeout = statementTimeout
        self.size = size
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: size)
        threads.start()
    }

    /// Whether opening a connection failed less than `interval` ago (and none opened since).
    public func failedToConnect(within interval: Duration) -> Bool {
        state.withLockedValue { state in
            state.connectFailedAt.map { ContinuousClock.now - $0 < interval } ?? false
        }
    }

    /// How many callers are waiting for a connection right now.
    public var waiting: Int {
        state.withLockedValue { $0.waiters.count }
    }

    /// Connections lent out, connections open and idle, and callers waiting, right now.
    public var statistics: (inUse: Int, idle: Int, waiting: Int) {
        state.withLockedValue { ($0.opened - $0.idle.count, $0.idle.count, $0.waiters.count) }
    }

    /// Runs `body` with a connection of its own, on a pool thread.
    ///
    /// If `body` leaves a transaction open (it threw mid-way), it is rolled back before
    /// the connection goes back to the pool.
    ///
    /// Cancelling the calling task cancels the statement running on the connection
    /// (`PQcancel`) and `body` fails; such a connection is closed rather than lent again,
    /// since the server may still deliver the cancel to its next statement. A task
    /// cancelled before the connection is handed over does not run `body`.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await lend { connection, _ in try body(connection) }
    }

    /// `withConnection`, with the loan the body can ask whether its task was cancelled. In a
    /// request whose reads may go to a replica (`ReplicaRead.current`), the replica's pool
    /// lends the connection when it can.
    private func lend<T: Sendable>(_ body: @escaping @Sendable (Connection, ConnectionLoan) throws -> T) async throws
        -> T
    {
        if let read = ReplicaRead.current, read.replica !== self, let value = try await read.run(body) {
            return value
        }
        guard let value = try await lendHere(ready: nil, body) else {
            preconditionFailure("no readiness check to fail")
        }
        return value
    }

    /// Lends one of this pool's connections to `body`; nil, without running `body`, when
    /// `ready` says the connection is not ready for it.
    func lendHere<T: Sendable>(
        ready: (@Sendable (Connection) throws -> Bool)?,
        _ body: @escaping @Sendable (Connection, ConnectionLoan) throws -> T
    ) async throws -> T? {
        let connection = try await checkOut()
        let loan = ConnectionLoan()
        do {
            let value = try await withTaskCancellationHandler {
                try await run { () throws -> T? in
                    try Self.prepare(connection)
                    guard loan.start(connection.canceller()) else { throw CancellationError() }
                    defer {
                        loan.end()
                        Self.tidy(connection)
                    }
                    if let ready, try !ready(connection) { return nil }
                    return try body(connection, loan)
                }
            } onCancel: {
                loan.cancel()
            }
            loan.wasCancelled ? discard(connection) : checkIn(connection)
            return value
        } catch {
            loan.wasCancelled ? discard(connection) : checkIn(connection)
            if let error = error as? PostgresError, error.isConnectionFailure { dropIdle() }
            throw error
        }
    }

    /// Closes the idle connections after one was found broken: their server is likely gone
    /// too (restarted, or a standby promoted in its place), and each would cost a caller a
    /// failed statement to find out. New ones open as they are needed.
    private func dropIdle() {
        state.withLockedValue { state in
            state.opened -= state.idle.count
            state.idle = []
        }
    }

    /// Runs `body` inside a transaction on a pooled connection. A task cancelled while
    /// `body` ran (its client went away, its budget ran out) does not commit, even when the
    /// cancel arrived between two statements, where `PQcancel` finds nothing to stop: nobody
    /// is left to be told the work was stored.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await lend { connection, loan in
            try connection.transaction { connection in
                let value = try body(connection)
                if loan.wasCancelled { throw CancellationError() }
                return value
            }
        }
    }

    /// Closes every idle connection and refuses new work. Waiting callers get an error.
    public func close() async throws {
        let (idle, waiters) = state.withLockedValue { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        _ = idle
        try await threads.shutdownGracefully()
    }

    static let closedError = PostgresError(.poolClosed, "the connection pool is closed")

    /// Runs blocking work on the pool's threads; once they are shut down, that is the pool closed.
    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threads.runIfActive(work)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw Self.closedError
        }
    }

    private static func prepare(_ connection: Connection) throws {
        if !connection.isHealthy { try connection.reconnect() }
    }

    private static func tidy(_ connection: Connection) {
        if connection.isInTransaction { try? connection.execute("ROLLBACK") }
    }

    private enum Grant {
        case connection(Connection)
        case open
        case wait
    }

    private func checkOut() async throws -> Connection {
        let grant: Grant = try state.withLockedValue { state in
            if state.closed { throw Self.closedError }
            if let connection = state.idle.popLast() { return .connection(connection) }
            if state.opened < size {
                state.opened += 1
                return .open
            }
            return .wait
        }
        switch grant {
        case .connection(let connection):
            return connection
        case .open:
            return try await open()
        case .wait:
            let handedOver = try await withCheckedThrowingContinuation { continuation in
                let enqueued = state.withLockedValue { state in
                    // A connection may have come back between the two locks.
                    if let connection = state.idle.popLast() { return Optional(connection) }
                    state.waiters.append(continuation)
                    return nil
                }
                if let connection = enqueued { continuation.resume(returning: connection) }
            }
            // `nil` means: a slot freed up because a connection was dropped; open a new one.
            if let handedOver { return handedOver }
            return try await open()
        }
    }

    private func open() async throws -> Connection {
        let conninfo = self.conninfo
        let statementTimeout = self.statementTimeout
        do {
            let connection = try await run { try Connection(conninfo, statementTimeout: statementTimeout) }
            state.withLockedValue { state in
                state.connectFailedAt = nil
                state.failureLoggedAt = nil
            }
            return connection
        } catch {
            // Logged once per outage, then once a minute: a database that is down fails every attempt.
            let quiet = state.withLockedValue { state in
                let now = ContinuousClock.now
                state.connectFailedAt = now
                if let logged = state.failureLoggedAt, now - logged < .seconds(60) { return true }
                state.failureLoggedAt = now
                return false
            }
            if !quiet { logger.error("cannot open a database connection", metadata: ["error": "\(error)"]) }
            freeSlot()
            throw error
        }
    }

    /// Closes a connection instead of lending it again (its handle is freed with its last
    /// reference, here).
    private func discard(_ connection: Connection) {
        freeSlot()
    }

    /// A connection's slot is free (it was discarded, or could not be opened): a caller
    /// waiting for a connection is told to open a new one in it.
    private func freeSlot() {
        let waiter: CheckedContinuation<Connection?, Error>? = state.withLockedValue { state in
            if state.closed || state.waiters.isEmpty {
                state.opened -= 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: nil)
    }

    private func checkIn(_ connection: Connection) {
        let waiter: CheckedContinuation<Connection?, Error>? = state.withLockedValue { state in
            if state.closed {
                state.opened -= 1
                return nil
            }
            if state.waiters.isEmpty {
                state.idle.append(connection)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: connection)
    }
}
