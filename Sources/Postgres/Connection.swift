import CLibPQ
import Foundation

/// One libpq connection (`PGconn`).
///
/// libpq calls block and a `PGconn` is not thread-safe: use a connection from one
/// thread at a time, off any event loop. `ConnectionPool` guarantees both, which is
/// why the type may cross tasks.
public final class Connection: @unchecked Sendable {
    let handle: OpaquePointer
    /// Statements prepared on this session, by SQL text: parsed and planned once, then
    /// executed many times (PostgreSQL re-plans them itself when the schema changes).
    private var prepared: [String: String] = [:]
    private static let maxPrepared = 500

    /// The longest any one statement may run before the server cancels it; `nil`: the server's setting.
    let statementTimeout: Duration?

    /// Connects with a conninfo string (`host=/tmp dbname=x`) or a URI (`postgres://…`).
    public init(_ conninfo: String, statementTimeout: Duration? = nil) throws {
        self.statementTimeout = statementTimeout
        guard let handle = PQconnectdb(conninfo) else {
            throw PostgresError(.connection, "libpq could not allocate a connection")
        }
        self.handle = handle
        guard PQstatus(handle) == CONNECTION_OK else {
            // Throwing here runs deinit, which frees the handle.
            throw PostgresError.connection(handle, "cannot connect to PostgreSQL")
        }
        try configureSession()
    }

    deinit {
        PQfinish(handle)
    }

    /// Settings the text decoders rely on; re-applied after every reconnect.
    private func configureSession() throws {
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        try execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET application_name = 'backbone'")
        if let statementTimeout {
            let milliseconds =
                statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds
                / 1_000_000_000_000_000
            try execute("SET statement_timeout = \(max(1, milliseconds))")
        }
    }

    /// Whether the connection is usable, after reading anything the server sent while
    /// it sat idle (such as notice of its backend being terminated).
    public var isHealthy: Bool {
        _ = PQconsumeInput(handle)
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Re-establishes a lost connection.
    public func reconnect() throws {
        prepared.removeAll()
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError.connection(handle, "cannot reconnect to PostgreSQL")
        }
        try configureSession()
    }

    /// Whether a transaction is open (or failed and awaiting ROLLBACK).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// What cancels the statement this connection runs now, from any thread (`PQcancel`).
    /// Made on the connection's own thread, as libpq asks.
    func canceller() -> StatementCanceller? {
        PQgetCancel(handle).map(StatementCanceller.init)
    }

    /// The server's process id for this session.
    public var backendPID: Int { Int(PQbackendPID(handle)) }

    /// Runs a parameterised statement and returns its rows.
    @discardableResult
    public func query(_ query: Query) throws -> QueryResult {
        let (sql, binds) = query.render()
        return try run(sql: sql, binds: binds)
    }

    /// Runs trusted SQL text, possibly several statements, with no parameters
    /// (for `schema.sql` and session settings, never for user input).
    public func execute(_ script: String) throws {
        let result = try check(PQexec(handle, script))
        _ = result
    }

    private func run(sql: String, binds: [String?]) throws -> QueryResult {
        // One buffer holds every parameter as a C string; pointers index into it.
        var storage: [CChar] = []
        var offsets: [Int?] = []
        offsets.reserveCapacity(binds.count)
        for (position, bind) in binds.enumerated() {
            guard let bind else {
                offsets.append(nil)
                continue
            }
            if bind.utf8.contains(0) {
                throw PostgresError(
                    .unstorableText,
                    "parameter $\(position + 1) contains a NUL character, which PostgreSQL text cannot hold")
            }
            offsets.append(storage.count)
            storage.append(contentsOf: bind.utf8CString)
        }
        let name = try preparedStatement(for: sql, parameterCount: binds.count)
        let raw = storage.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset.map { buffer.baseAddress! + $0 } }
            return PQexecPrepared(handle, name, Int32(binds.count), values, nil, nil, 0)
        }
        return try check(raw)
    }

    /// The name of `sql` prepared on this session, preparing it on first use.
    private func preparedStatement(for sql: String, parameterCount: Int) throws -> String {
        if let name = prepared[sql] { return name }
        if prepared.count >= Self.maxPrepared {
            try execute("DEALLOCATE ALL")
            prepared.removeAll()
        }
        let name = "backbone_\(prepared.count)"
        _ = try check(PQprepare(handle, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// Turns a raw result into a `QueryResult` or throws the error it carries.
    func check(_ raw: OpaquePointer?) throws -> QueryResult {
        guard let raw else { throw PostgresError.connection(handle, "no result from PostgreSQL") }
        let result = QueryResult(handle: raw)
        switch PQresultStatus(raw) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return result
        default:
            throw PostgresError(result: raw, connection: handle)
        }
    }

    /// Runs `body` under a savepoint of the current transaction: when it throws, only its
    /// work is undone and the transaction can go on.
    public func savepoint<T>(_ body: (Connection) throws -> T) throws -> T {
        try bracket(
            "SAVEPOINT backbone_savepoint", then: "RELEASE SAVEPOINT backbone_savepoint",
            orUndo: "ROLLBACK TO SAVEPOINT backbone_savepoint", body)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try bracket("BEGIN", then: "COMMIT", orUndo: "ROLLBACK", body)
    }

    private func bracket<T>(_ start: String, then finish: String, orUndo undo: String, _ body: (Connection) throws -> T)
        throws -> T
    {
        try execute(start)
        do {
            let value = try body(self)
            try execute(finish)
            return value
        } catch {
            if PQstatus(handle) == CONNECTION_OK { try? execute(undo) }
            throw error
        }
    }
}
