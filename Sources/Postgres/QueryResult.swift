import CLibPQ

/// The rows a statement returned, read in text format.
///
/// A `PGresult` is read-only once made, and libpq allows reading one from any thread,
/// which is why this owner of one may cross tasks.
public final class QueryResult: @unchecked Sendable, RandomAccessCollection {
    let handle: OpaquePointer

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(PQntuples(handle)) }
    public subscript(position: Int) -> Row { Row(result: self, index: Int32(position)) }

    /// The number of rows a command touched (`INSERT`, `UPDATE`, `DELETE`).
    public var affectedRows: Int {
        Int(String(cString: PQcmdTuples(handle))) ?? 0
    }

    /// Column names in order.
    public var columns: [String] {
        (0..<PQnfields(handle)).map { String(cString: PQfname(handle, $0)) }
    }

    func columnIndex(_ name: String) -> Int32? {
        let index = PQfnumber(handle, quoteIdentifier(name))
        return index < 0 ? nil : index
    }
}

/// One row of a `QueryResult`.
public struct Row: Sendable {
    let result: QueryResult
    let index: Int32

    /// The number of columns.
    public var count: Int { Int(PQnfields(result.handle)) }

    /// A column's text as libpq holds it (NUL-terminated, `length` bytes), or nil for NULL.
    private func value(at column: Int) throws -> (bytes: UnsafePointer<CChar>, length: Int)? {
        guard column < count else {
            throw PostgresError(.decoding, "column \(column) does not exist (the row has \(count))")
        }
        let handle = result.handle
        if PQgetisnull(handle, index, Int32(column)) == 1 { return nil }
        guard let bytes = PQgetvalue(handle, index, Int32(column)) else {
            throw PostgresError(.decoding, "row \(index) has no column \(column)")
        }
        return (UnsafePointer(bytes), Int(PQgetlength(handle, index, Int32(column))))
    }

    /// Reads a column's text in place, as libpq holds it (no `String` is made); nil for NULL.
    public func withBytes<T>(at column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        guard let value = try value(at: column) else { return nil }
        let bytes = UnsafeRawPointer(value.bytes).assumingMemoryBound(to: UInt8.self)
        return try body(UnsafeBufferPointer(start: bytes, count: value.length))
    }

    /// Decodes one column by position.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard let value = try value(at: column) else { return try T.postgresNull() }
        do {
            return try T(postgresBytes: value.bytes, length: value.length)
        } catch var error as PostgresError {
            error.column = String(cString: PQfname(result.handle, Int32(column)))
            throw error
        }
    }

    /// Decodes one column by name.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let column = result.columnIndex(name) else {
            throw PostgresError(.decoding, "no column named \(name)")
        }
        return try decode(T.self, at: Int(column))
    }

    /// Decodes the leading columns as a tuple: `try row.decode((Int, String?).self)`.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> (
        repeat each Column
    ) {
        var column = 0
        func next<T: PostgresDecodable>(_ type: T.Type) throws -> T {
            defer { column += 1 }
            return try decode(T.self, at: column)
        }
        return (repeat try next((each Column).self))
    }
}
