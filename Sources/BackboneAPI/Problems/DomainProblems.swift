import BackboneCore
import Foundation
import HTTPServer
import JSON
import NIOHTTP1
import Postgres

extension Problem {
    /// The response status and shape for each way the domain refuses: the one place a
    /// `DomainError` becomes HTTP.
    init(_ error: DomainError) {
        switch error {
        case .invalid(let issues):
            self = .invalid(issues)
        case .rejected(let issues, let received):
            if DomainError.onlyLocks(issues) {
                self = Problem(
                    status: .conflict, code: error.code, title: "The period is locked",
                    detail:
                        "The coordinator has locked these periods; nothing was stored. Ask the coordinator for corrections.",
                    errors: issues)
            } else {
                let rows = Set(issues.compactMap(\.row)).count
                self = Problem(
                    status: .unprocessableEntity, code: error.code, title: "The measurements have invalid fields",
                    detail:
                        "\(rows) of \(received) rows have problems; nothing was stored. Fix them, or send ?mode=partial to store the valid rows.",
                    errors: issues)
            }
        case .notFound(let detail):
            self = .notFound(detail)
        case .conflict(let code, let detail):
            self = .conflict(detail, code: code)
        case .forbidden(let detail):
            self = Problem(status: .forbidden, code: error.code, title: "Forbidden", detail: detail)
        case .malformed(let code, let detail, let issues):
            self = .badRequest(detail, code: code)
            if !issues.isEmpty { errors = issues }
            // A fault in an uploaded file names its line at the top level too.
            if issues.count == 1, let line = issues[0].line { extensions["line"] = .integer(line) }
        case .tooLarge(let code, let detail):
            self = Problem(status: .payloadTooLarge, code: code, title: "Too large", detail: detail)
        case .storedData(let column, let detail):
            self = Problem(
                status: .internalServerError, code: error.code, title: "Unreadable stored data",
                detail: "\(column) \(detail); this version cannot read it. Nothing was changed.")
        }
    }
}

extension Problem {
    /// Seconds a client is asked to wait before retrying while the database is away.
    static let databaseRetryAfter = 5

    /// 503: the database cannot be reached (down, restarting) or the service is shutting
    /// down and its pool is closed. The request was not carried out and can be sent again.
    static func databaseUnavailable(shuttingDown: Bool = false) -> Problem {
        Problem(
            status: .serviceUnavailable, code: "database-unavailable", title: "Database unavailable",
            detail: shuttingDown
                ? "The service is shutting down; nothing was changed. Retry in a few seconds."
                : "The database cannot be reached right now; nothing was changed. Retry in a few seconds.",
            headers: ["retry-after": String(databaseRetryAfter)])
    }

    /// The problem an error escaping a handler stands for, when it is not a `Problem`:
    /// the domain's refusals and the database's failures, mapped here and nowhere else.
    static func translating(_ error: any Error) -> Problem? {
        switch error {
        case let error as DomainError:
            return Problem(error)
        case let error as PostgresError where error.kind == .poolClosed:
            return .databaseUnavailable(shuttingDown: true)
        case let error as PostgresError where error.isConnectionFailure || error.sqlState == "25006":
            // 25006: a write reached a server in recovery (a standby where the primary was).
            return .databaseUnavailable()
        case let error as PostgresError where error.kind == .decoding:
            // A stored value this version cannot read (the wrapper names its column).
            return Problem(DomainError.storedData(column: error.column ?? "a stored value", error.message))
        case let error as PostgresError where error.sqlState == "57014":
            // statement_timeout, set to the request budget: the statement ran too long.
            return .budgetExceeded(
                "A database statement of this request ran past the server's time budget and was cancelled")
        case is CancellationError:
            // Its client went away or the server is stopping: nobody reads this answer; the log does.
            return Problem(
                status: .serviceUnavailable, code: "request-cancelled", title: "Request cancelled",
                detail: "The request was cancelled before it finished; nothing was changed.")
        case let error as PostgresError where error.kind == .unstorableText:
            // The wrapper refuses text PostgreSQL cannot store (a NUL character) before sending it.
            return .invalid(field: "body", code: "invalid-text", error.message)
        default:
            return nil
        }
    }
}

/// Runs database work for a handler, turning domain refusals into problems.
///
/// A transaction PostgreSQL aborted to break a deadlock (40P01) or a serialization
/// conflict (40001) left nothing behind and is run again, up to four times in all: two
/// batches updating the same rows in different orders must not make either of them a 500.
func database<T: Sendable>(
    _ pool: ConnectionPool, transaction: Bool = true, _ body: @escaping @Sendable (Connection) throws -> T
) async throws -> T {
    var attempt = 1
    while true {
        do {
            return try await databaseOnce(pool, transaction: transaction, body)
        } catch let error as PostgresError where transaction && (error.sqlState == "40P01" || error.sqlState == "40001")
        {
            guard attempt < 4 else {
                throw Problem.conflict(
                    "Other requests kept changing the same data at the same time; nothing was stored. Send the request again.",
                    code: "concurrent-change")
            }
            attempt += 1
            try await Task.sleep(for: .milliseconds(Int.random(in: 10...50) * attempt))
        }
    }
}

private func databaseOnce<T: Sendable>(
    _ pool: ConnectionPool, transaction: Bool, _ body: @escaping @Sendable (Connection) throws -> T
) async throws -> T {
    do {
        return transaction ? try await pool.transaction(body) : try await pool.withConnection(body)
    } catch let error as PostgresError where error.sqlState == "40P01" || error.sqlState == "40001" {
        throw error  // `database` runs it again
    } catch {
        throw Problem.translating(error) ?? error
    }
}

extension HTTPRequest {
    /// The body as a JSON object; anything else is a 400 or 422 that says what was wrong.
    func jsonObject() throws -> [String: JSONValue] {
        guard body.readableBytes > 0 else {
            throw Problem.badRequest("The request needs a JSON object as its body.", code: "empty-body")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(body.readableBytesView))
        } catch {
            throw Problem(error)
        }
        guard case .object(let object) = value else {
            throw Problem.invalid(field: "body", code: "wrong-type", "must be a JSON object, not \(value.typeName)")
        }
        return object
    }

    /// `?limit=` within 1…max (default 100).
    func pageLimit(max: Int = 1000) throws -> Int {
        guard let text = query("limit") else { return 100 }
        guard let limit = Int(text), (1...max).contains(limit) else {
            throw Problem.badRequest(
                "limit must be a whole number from 1 to \(max).", field: "limit", code: "invalid-limit")
        }
        return limit
    }
}
