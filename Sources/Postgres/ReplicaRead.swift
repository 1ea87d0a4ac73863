import Foundation
import Synchronization

/// The reads of one request that may be served by a streaming replica.
///
/// Set as `ReplicaRead.current` around a request's work: every connection that work
/// borrows from the primary's pool is then borrowed from `replica` instead, once the
/// replica has replayed the write-ahead log up to `mark` (the caller's last write, so the
/// caller reads what it was told is stored). A replica behind the mark is asked again
/// every 2 ms until `deadline`; after it, and whenever the replica cannot be reached or
/// refuses the work (a write, or a query cancelled by a conflict with recovery), the work
/// runs on the primary, as does every later borrow of the request. A replica server that
/// is not in recovery (promoted, or a primary listed as the replica's fallback host) has
/// everything and is used as it is.
public final class ReplicaRead: Sendable {
    /// The reads of the request running now, if it may read from a replica.
    @TaskLocal public static var current: ReplicaRead?

    public let replica: ConnectionPool
    /// The WAL position (`pg_lsn` text) the replica must have replayed; nil: any position.
    public let mark: String?
    /// Until when a borrow may wait for the replica to reach `mark`.
    public let deadline: ContinuousClock.Instant

    /// Where the request's borrows went, and how long they waited for the replica.
    public struct Record: Sendable, Equatable {
        public var replica = 0
        public var primary = 0
        public var waited: Duration = .zero
    }

    private let state = Mutex(Record())

    /// How long a replica that could not be reached is left alone.
    public static let unreachablePause: Duration = .seconds(1)

    public init(replica: ConnectionPool, mark: String?, waitingAtMost wait: Duration) {
        self.replica = replica
        self.mark = mark
        deadline = .now + wait
    }

    /// What the request's borrows did so far.
    public var record: Record { state.withLock { $0 } }

    /// Whether a borrow went to the primary (after that, every borrow does).
    var fellBack: Bool { state.withLock { $0.primary > 0 } }

    /// Runs `body` on a replica connection that has caught up; nil when it must run on the
    /// primary instead (nothing of it ran, or what ran was refused and rolled back).
    func run<T: Sendable>(_ body: @escaping @Sendable (Connection, ConnectionLoan) throws -> T) async throws -> T? {
        // A replica that could not be reached a moment ago is not tried again for each read.
        guard !fellBack, !replica.failedToConnect(within: Self.unreachablePause) else { return countPrimary() }
        do {
            let value = try await replica.lendHere(ready: { [self] in try caughtUp($0) }, body)
            guard let value else { return countPrimary() }
            state.withLock { $0.replica += 1 }
            return value
        } catch let error as PostgresError where error.isConnectionFailure || Self.refusedOnStandby(error) {
            return countPrimary()
        }
    }

    private func countPrimary<T>() -> T? {
        state.withLock { $0.primary += 1 }
        return nil
    }

    /// Errors a standby raises for work a primary would do: a write (25006), a query
    /// cancelled because replay needed what it read (40001 from recovery conflicts).
    static func refusedOnStandby(_ error: PostgresError) -> Bool {
        error.sqlState == "25006" || (error.sqlState == "40001" && error.message.contains("recovery"))
    }

    /// Whether `connection`'s server has replayed `mark`, asking again until the deadline
    /// (the time spent asking is `Record.waited`).
    private func caughtUp(_ connection: Connection) throws -> Bool {
        guard let mark else { return true }
        let started = ContinuousClock.now
        defer { state.withLock { $0.waited += ContinuousClock.now - started } }
        while true {
            let replayed = try connection.query(
                "SELECT NOT pg_is_in_recovery() OR coalesce(pg_last_wal_replay_lsn() >= \(mark)::pg_lsn, false)"
            )[0].decode(Bool.self)
            if replayed { return true }
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }
}
