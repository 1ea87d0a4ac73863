import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Connection pool")
struct ConnectionPoolTests {
    @Test func servesManyMoreCallersThanConnections() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 3)
        let pids = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    try await pool.withConnection { connection in
                        try connection.query("SELECT pg_backend_pid(), pg_sleep(0.005)")[0].decode(Int.self, at: 0)
                    }
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(pids.count <= 3)
        try await pool.close()
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 1)
        let order = OrderLog()
        // Hold the only connection while the waiters queue up one after another.
        let holding = OrderLog()
        let release = OrderLog()
        let holder = Task {
            try await pool.withConnection { connection in
                holding.append(1)
                // Hold the connection until every waiter has queued (at most 10 s).
                for _ in 0..<1000 where release.values.isEmpty { try connection.query("SELECT pg_sleep(0.01)") }
            }
        }
        while holding.values.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        var waiters: [Task<Void, Error>] = []
        for index in 0..<5 {
            waiters.append(Task { try await pool.withConnection { _ in order.append(index) } })
            // Each waiter joins the queue before the next one starts.
            while pool.waiting < index + 1 { try await Task.sleep(for: .milliseconds(5)) }
        }
        release.append(1)
        _ = try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(order.values == [0, 1, 2, 3, 4])
        try await pool.close()
    }

    @Test func recoversAfterTheServerKillsItsBackends() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 4)
        // Open all four connections, noting their server processes.
        let pids = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.withConnection {
                        try $0.query("SELECT pg_backend_pid(), pg_sleep(0.1)")[0].decode(Int.self, at: 0)
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(Set(pids).count == 4)
        let admin = try TestDatabase.connect()
        let killed = try admin.query(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(\(pids)::int[]) AS pid")
        #expect(try killed[0].decode(Int.self, at: 0) == 4)
        try await Task.sleep(for: .milliseconds(200))

        var failures = 0
        var successes = 0
        for _ in 0..<12 {
            do {
                _ = try await pool.withConnection { try $0.query("SELECT 1")[0].decode(Int.self, at: 0) }
                successes += 1
            } catch {
                failures += 1
            }
        }
        #expect(failures <= 1)
        #expect(successes >= 11)
        try await pool.close()
    }

    @Test func openTransactionIsRolledBackWhenBodyThrows() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 1)
        let table = TestDatabase.uniqueName("pooled")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (id int)") }
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            try await pool.withConnection { connection in
                try connection.execute("BEGIN")
                try connection.query("INSERT INTO \(identifier: table) VALUES (1)")
                throw Stop()
            }
        }
        let count = try await pool.withConnection { connection in
            (
                connection.isInTransaction,
                try connection.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0)
            )
        }
        #expect(count.0 == false)
        #expect(count.1 == 0)
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
        try await pool.close()
    }

    /// A cancel that arrives between two statements finds nothing running to stop: the
    /// transaction must still not commit, as nobody is left to be told it did.
    @Test func aTransactionCancelledBetweenStatementsDoesNotCommit() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 1)
        let table = TestDatabase.uniqueName("cancelled")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (id int)") }
        let work = Task {
            try await pool.transaction { connection in
                try connection.query("INSERT INTO \(identifier: table) VALUES (1)")
                Thread.sleep(forTimeInterval: 0.5)  // no statement runs now
                try connection.query("INSERT INTO \(identifier: table) VALUES (2)")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        work.cancel()
        await #expect(throws: (any Error).self) { try await work.value }
        let count = try await pool.withConnection {
            try $0.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0)
        }
        #expect(count == 0)
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
        try await pool.close()
    }

    @Test func aClosedPoolSaysSoInItsOwnErrorKind() async throws {
        let pool = ConnectionPool(conninfo: try TestDatabase.conninfo, size: 1)
        try await pool.withConnection { try $0.execute("SELECT 1") }
        try await pool.close()
        let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in 1 } }
        #expect(error?.kind == .poolClosed)
        #expect(error?.isConnectionFailure == false)
    }

    @Test func unreachableServerIsAConnectionError() async throws {
        let pool = ConnectionPool(conninfo: "host=/nonexistent dbname=x connect_timeout=2", size: 1)
        let error = await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in 1 } }
        #expect(error?.kind == .connection)
        try await pool.close()
    }
}

/// A thread-safe list the tests append to from several tasks.
final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ value: Int) { lock.withLock { items.append(value) } }
    var values: [Int] { lock.withLock { items } }
}
