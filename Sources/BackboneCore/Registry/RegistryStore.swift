import Postgres

/// Create, read, list, update and deactivate for any registry record.
public struct RegistryStore<Record: RegistryRecord>: Sendable {
    public init() {}

    var resource: RegistryResource { Record.resource }
    private var selectList: Query { Record.columns }

    /// One page of a list and the cursor of the next page, if any.
    public struct Page: Sendable {
        public var items: [Record]
        public var nextCursor: String?
    }

    private func decode(_ row: Row) throws -> Record { try Record.decode(row) }

    public func get(_ connection: Connection, key: String) throws -> Record {
        guard let record = try find(connection, key: key) else {
            throw DomainError.notFound("No \(resource.name) \(key).")
        }
        return record
    }

    public func find(_ connection: Connection, key: String) throws -> Record? {
        guard let keyValue = keyBind(key) else { return nil }
        let rows = try connection.query(
            "SELECT \(selectList) FROM \(identifier: resource.table) WHERE \(identifier: resource.key.column) = \(keyValue)"
        )
        return try rows.first.map(decode)
    }

    /// Lists records in key order after `cursor`, filtered by `filters` (field name → value).
    public func list(_ connection: Connection, filters: [String: String], cursor: String?, limit: Int) throws -> Page {
        var conditions: [Query] = []
        for (name, value) in filters.sorted(by: { $0.key < $1.key }) {
            guard let field = resource.fields.first(where: { $0.name == name && $0.filterable }) else {
                throw DomainError.malformed(code: "unknown-filter", "\(name) is not a filter of \(resource.path)")
            }
            if case .bool = field.kind {
                guard let flag = Bool(value) else {
                    throw DomainError.malformed(code: "invalid-filter", "\(name) must be true or false")
                }
                conditions.append("\(identifier: field.column) = \(flag)")
            } else {
                conditions.append("\(identifier: field.column) = \(value)")
            }
        }
        if let cursor {
            guard let after = keyBind(cursor) else {
                throw DomainError.malformed(code: "invalid-cursor", "the cursor is not valid")
            }
            conditions.append("\(identifier: resource.key.column) > \(after)")
        }
        let whereClause: Query = conditions.isEmpty ? "" : " WHERE " + Query.joined(conditions, separator: " AND ")
        let rows = try connection.query(
            "SELECT \(selectList) FROM \(identifier: resource.table)\(whereClause) ORDER BY \(identifier: resource.key.column) LIMIT \(limit + 1)"
        )
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.key : nil)
    }

    /// Creates a record with these values (every required field among them; the edge checked that).
    public func create(_ connection: Connection, _ changes: RegistryChanges) throws -> Record {
        let assignments = self.assignments(changes)
        let columns = assignments.map { quoteIdentifier($0.column) }.joined(separator: ", ")
        let values = Query.joined(assignments.map(\.value), separator: ", ")
        let rows = try mapConstraintErrors {
            try connection.query(
                "INSERT INTO \(identifier: resource.table) (\(unsafe: columns)) VALUES (\(values)) RETURNING \(selectList)"
            )
        }
        let created = try decode(rows[0])
        try Record.check(connection, old: nil, new: created)
        return created
    }

    /// Sets the fields `changes` names; the others are left as they are.
    public func update(_ connection: Connection, key: String, _ changes: RegistryChanges) throws -> Record {
        let assignments = self.assignments(changes)
        guard let keyValue = keyBind(key) else { throw DomainError.notFound("No \(resource.name) \(key).") }
        let old = try get(connection, key: key)
        if assignments.isEmpty { return old }
        var sets = assignments.map { "\(identifier: $0.column) = \($0.value)" as Query }
        if resource.tracksUpdates { sets.append("updated_at = now()") }
        let rows = try mapConstraintErrors {
            try connection.query(
                "UPDATE \(identifier: resource.table) SET \(Query.joined(sets, separator: ", ")) WHERE \(identifier: resource.key.column) = \(keyValue) RETURNING \(selectList)"
            )
        }
        guard let row = rows.first else { throw DomainError.notFound("No \(resource.name) \(key).") }
        let updated = try decode(row)
        try Record.check(connection, old: old, new: updated)
        return updated
    }

    /// Column assignments for `changes`; a field the resource does not have is a programming error.
    private func assignments(_ changes: RegistryChanges) -> [(column: String, value: Query)] {
        changes.values.flatMap { field, value in
            guard let described = resource.allFields.first(where: { $0.name == field }) else {
                preconditionFailure("\(resource.name) has no field \(field)")
            }
            return described.assignments(value)
        }
    }

    /// Sets `active = false` (or deletes, for resources without an active flag).
    public func deactivate(_ connection: Connection, key: String) throws -> Record? {
        guard let keyValue = keyBind(key) else { throw DomainError.notFound("No \(resource.name) \(key).") }
        if resource.deleteRemoves {
            let rows = try connection.query(
                "DELETE FROM \(identifier: resource.table) WHERE \(identifier: resource.key.column) = \(keyValue) RETURNING \(selectList)"
            )
            guard !rows.isEmpty else { throw DomainError.notFound("No \(resource.name) \(key).") }
            return nil
        }
        var changes = RegistryChanges()
        changes.set("active", .bool(false))
        return try update(connection, key: key, changes)
    }

    /// The key as a parameter, or `nil` if it cannot be a key at all.
    private func keyBind(_ key: String) -> Query? {
        if case .integer = resource.key.kind {
            guard let number = Int(key) else { return nil }
            return "\(number)"
        }
        return "\(key)"
    }

    /// Turns constraint violations into field errors or conflicts.
    func mapConstraintErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.kind == .server {
            let field =
                error.constraint.flatMap { resource.constraintFields[$0] }
                ?? error.column.flatMap { resource.field(forColumn: $0)?.name } ?? "body"
            switch error.sqlState {
            case "23505":
                throw DomainError.conflict(
                    code: "already-exists", "That \(resource.name) already exists. \(error.detail ?? "")")
            case "23503":
                throw DomainError.invalid(
                    field: field, code: "unknown-reference",
                    "refers to something that does not exist (\(error.detail ?? error.message))")
            case "23514":
                throw DomainError.invalid(field: field, code: "constraint-violated", error.message)
            case "23502":
                throw DomainError.invalid(field: field, code: "required", "must not be null")
            default:
                throw error
            }
        }
    }
}
