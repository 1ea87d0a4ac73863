import CLibPQ

/// An error from PostgreSQL or from talking to it.
///
/// Server errors carry the fields the server sent, so callers can map a SQLSTATE
/// (`23505` unique violation, `23514` check violation, …) to a response without
/// parsing message strings.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Where the error came from.
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made or was lost.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// Text PostgreSQL cannot store (a NUL character), refused before it is sent.
        case unstorableText
        /// The pool was closed (the service is shutting down): nothing was sent.
        case poolClosed
    }

    public var kind: Kind
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?

    public init(
        _ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, table: String? = nil, column: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isCheckViolation: Bool { sqlState == "23514" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    public var isNotNullViolation: Bool { sqlState == "23502" }

    /// True when the connection itself failed (class 08, or the server shutting us down),
    /// as opposed to a statement being refused.
    public var isConnectionFailure: Bool {
        kind == .connection || sqlState?.hasPrefix("08") == true || sqlState == "57P01"
            || sqlState == "57P02" || sqlState == "57P03"
    }

    public var description: String {
        var text = "PostgreSQL \(kind)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }

    /// Reads the error fields of a failed result.
    init(result: OpaquePointer, connection: OpaquePointer?) {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let primary = field("M") ?? PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
        // The server sends every error it raises with a SQLSTATE; one without comes from libpq
        // itself: the connection broke (closed by a server that is going down, a failed
        // send), even when libpq has not marked the connection bad yet.
        let lostConnection = connection.map { PQstatus($0) != CONNECTION_OK } ?? false
        self.init(
            lostConnection || field("C") == nil ? .connection : .server,
            primary.trimmingTrailingNewlines(),
            sqlState: field("C"), detail: field("D"), hint: field("H"),
            constraint: field("n"), table: field("t"), column: field("c")
        )
    }

    /// The connection's last error message, as a connection error.
    static func connection(_ connection: OpaquePointer?, _ context: String) -> PostgresError {
        let message = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? ""
        return PostgresError(.connection, "\(context): \(message.trimmingTrailingNewlines())")
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while text.last?.isNewline == true { text = text.dropLast() }
        return String(text)
    }
}
