import BackboneCore
import CoreMetrics
import HTTPServer
import Logging
import Postgres

/// Where requests read and what writes leave behind, with a replica (`DATABASE_REPLICA_URL`;
/// docs/SCALING.md, "Replicas and read-your-writes").
///
/// A request that only reads asks the primary, in one indexed statement, for its caller's
/// write mark and whether the key is still live (so a key revoked through any server process
/// is refused at once, whichever database then serves the read), and runs its handler with
/// its reads on the replica once the replica has replayed that mark (`ReplicaRead`), else
/// on the primary after at most `wait`. A request that wrote records its caller's mark after
/// its transaction committed. Without a replica, nothing of this runs.
struct ReplicaReads: Sendable {
    let primary: ConnectionPool
    let replica: ConnectionPool?
    let metrics: ReplicaMetrics
    let logger: Logger

    /// The longest a read waits for the replica to catch up before it goes to the primary.
    static let wait: Duration = .milliseconds(50)

    init(primary: ConnectionPool, replica: ConnectionPool?, metrics: ServiceMetrics, logger: Logger) {
        self.primary = primary
        self.replica = replica
        self.metrics = ReplicaMetrics(factory: metrics.factory)
        self.logger = logger
    }

    /// Runs a read-only request's `work` with its reads on the replica when it can (a streamed
    /// body's too).
    func read(by caller: Caller?, _ work: () async throws -> HTTPResponse) async throws -> HTTPResponse {
        guard let replica else { return try await work() }
        let read = ReplicaRead(replica: replica, mark: try await mark(of: caller), waitingAtMost: Self.wait)
        var response = try await ReplicaRead.$current.withValue(read) { try await work() }
        let metrics = self.metrics
        if let stream = response.stream {
            response.stream = { writer in
                try await ReplicaRead.$current.withValue(read) { try await stream(writer) }
                metrics.count(read.record)
            }
        } else {
            metrics.count(read.record)
        }
        return response
    }

    /// The caller's write mark, read on the primary; a key the primary no longer holds live
    /// is refused. With the primary away (read-only mode) there is no mark to wait for: the
    /// replica's data is all there is.
    private func mark(of caller: Caller?) async throws -> String? {
        guard let caller, !primary.failedToConnect(within: ReplicaRead.unreachablePause) else { return nil }
        do {
            let freshness = try await primary.withConnection { try WriteMarks.freshness($0, keyID: caller.key.id) }
            guard freshness.live else { throw Authenticator.unknownOrRevoked }
            return freshness.mark
        } catch let error as PostgresError where error.isConnectionFailure {
            return nil
        }
    }

    /// Records, after a request that changed something, that its caller wrote.
    func wrote(_ caller: Caller?, _ response: HTTPResponse) async {
        guard replica != nil, let caller, response.status.code < 400 else { return }
        do {
            try await primary.withConnection { try WriteMarks.record($0, keyID: caller.key.id) }
        } catch {
            // The write committed; only the next read's choice of database is less sure.
            logger.warning(
                "write mark not recorded: the caller's next read may go to a replica without its write",
                metadata: ["key_id": "\(caller.key.id)", "error": "\(error)"])
        }
    }
}

/// `backbone_database_reads_total{target}`: read-only requests by where their reads ran
/// (`replica`; `primary` when any of them ran there), and `backbone_replica_wait_seconds`:
/// how long a request waited for the replica to catch up.
struct ReplicaMetrics: Sendable {
    private let replica: CoreMetrics.Counter
    private let primary: CoreMetrics.Counter
    private let waited: CoreMetrics.Timer

    init(factory: any MetricsFactory) {
        replica = CoreMetrics.Counter(
            label: "backbone_database_reads_total", dimensions: [("target", "replica")], factory: factory)
        primary = CoreMetrics.Counter(
            label: "backbone_database_reads_total", dimensions: [("target", "primary")], factory: factory)
        waited = CoreMetrics.Timer(label: "backbone_replica_wait_seconds", dimensions: [], factory: factory)
    }

    func count(_ record: ReplicaRead.Record) {
        if record.primary > 0 {
            primary.increment()
        } else if record.replica > 0 {
            replica.increment()
        }
        if record.waited > .zero { waited.record(record.waited) }
    }
}
