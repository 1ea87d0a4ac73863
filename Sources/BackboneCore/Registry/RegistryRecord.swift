import Postgres

/// A typed registry record: how it is selected and decoded (once, for every reader) and
/// the rules across its fields checked after each write.
public protocol RegistryRecord: Sendable {
    /// The table, key and writable fields.
    static var resource: RegistryResource { get }
    /// The select list `decode` reads, in order.
    static var columns: Query { get }
    static func decode(_ row: Row) throws -> Self
    /// Rules across fields or rows, checked inside the writing transaction after a create
    /// (`old` is nil) or an update; throwing undoes the write.
    static func check(_ connection: Connection, old: Self?, new: Self) throws
    /// The key as it appears in URLs and cursors.
    var key: String { get }
}

extension RegistryRecord {
    public static func check(_ connection: Connection, old: Self?, new: Self) throws {}
}
