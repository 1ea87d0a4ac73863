import CLibPQ

extension Connection {
    /// Bulk-loads rows with `COPY table (columns) FROM STDIN`, the fastest way in.
    ///
    ///     try connection.copy(into: "readings", columns: ["id", "value"]) { writer in
    ///         for reading in readings { try writer.append([String(reading.id), reading.value]) }
    ///     }
    ///
    /// If `body` throws, the COPY is aborted and nothing is loaded. Returns the row count.
    @discardableResult
    public func copy(into table: String, columns: [String], _ body: (inout CopyWriter) throws -> Void) throws -> Int {
        let columnList = columns.map(quoteIdentifier).joined(separator: ", ")
        let start = PQexec(handle, "COPY \(quoteIdentifier(table)) (\(columnList)) FROM STDIN")
        let started = try check(start)
        guard PQresultStatus(started.handle) == PGRES_COPY_IN else {
            throw PostgresError(.client, "COPY did not start")
        }
        var writer = CopyWriter(connection: self, columnCount: columns.count)
        do {
            try body(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by the client: \(error)")
            while let raw = PQgetResult(handle) { PQclear(raw) }
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PostgresError.connection(handle, "COPY could not finish")
        }
        var loaded = 0
        var failure: Error?
        while let raw = PQgetResult(handle) {
            do {
                let result = try check(raw)
                loaded += result.affectedRows
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return loaded
    }
}

/// Buffers rows in COPY's text format and sends them in large chunks.
public struct CopyWriter {
    let connection: Connection
    let columnCount: Int
    private var buffer: [UInt8] = []
    private static let chunkSize = 256 * 1024

    init(connection: Connection, columnCount: Int) {
        self.connection = connection
        self.columnCount = columnCount
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Appends one row; `nil` is NULL.
    public mutating func append(_ row: [String?]) throws {
        guard row.count == columnCount else {
            throw PostgresError(.client, "COPY row has \(row.count) values for \(columnCount) columns")
        }
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(0x09) }
            guard let value else {
                buffer.append(contentsOf: [0x5C, 0x4E])  // \N
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
                case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
                case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
                case 0x00: throw PostgresError(.client, "COPY value contains a NUL character")
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(0x0A)
        if buffer.count >= Self.chunkSize { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let sent = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection.handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1 else { throw PostgresError.connection(connection.handle, "COPY data could not be sent") }
        buffer.removeAll(keepingCapacity: true)
    }
}
