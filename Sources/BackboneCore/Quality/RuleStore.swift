// A stand-in until the rules branch lands (it replaces this file): no stored rules yet.
import DataQuality
import Postgres

public enum RuleStore {
    public static func activeRules(_ connection: Connection, readingAny indicators: some Collection<String>) throws
        -> [ValidationRule]
    { [] }

    public static func rule(_ connection: Connection, id: String) throws -> StoredRule {
        throw DomainError.notFound("No rule \(id).")
    }
}

public struct StoredRule: Sendable {
    public var rule: ValidationRule
}
