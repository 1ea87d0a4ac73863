import Aggregation
import BackboneCore
import DataQuality
import DomainModel
import Foundation
import Postgres
import TestSupport
import Testing

/// Rules the database and Swift both hold, held equal: the values a stored enum may take
/// (the tables' CHECK lists and the Swift enums) and the scale of a ratio.
@Suite("Rules written in Swift and in SQL agree")
struct RulesInBothLanguagesTests {
    /// Each column with a CHECK list and the Swift enum whose raw values it stores.
    static let storedEnums: [String: [String]] = [
        "indicators.value_type": ValueType.allCases.map(\.rawValue),
        "indicators.aggregation": AggregationMethod.allCases.map(\.rawValue),
        "indicators.period_type": PeriodType.allCases.map(\.rawValue),
        "indicators.direction": Direction.allCases.map(\.rawValue),
        "partners.kind": PartnerKind.allCases.map(\.rawValue),
        "partners.level": PartnershipLevel.allCases.map(\.rawValue),
        "api_keys.role": Role.allCases.map(\.rawValue),
        "validation_rules.operator": RuleOperator.allCases.map(\.rawValue),
        "validation_rules.importance": RuleImportance.allCases.map(\.rawValue),
        "validation_rules.action": RuleAction.allCases.map(\.rawValue),
        "validation_rules.missing": MissingValueStrategy.allCases.map(\.rawValue),
        "validation_rules.period_type": PeriodType.allCases.map(\.rawValue),
        "validation_rule_history.action": RuleChange.Action.allCases.map(\.rawValue),
        "quality_flags.kind": QualityFlag.Kind.allCases.map(\.rawValue),
        "quality_flags.status": QualityFlag.Status.allCases.map(\.rawValue),
        "actions.status": ActionStatus.allCases.map(\.rawValue),
        "action_history.change": ActionChange.Change.allCases.map(\.rawValue),
        "publications.audience": Publication.Audience.allCases.map(\.rawValue),
        "reminders_sent.stage": ReminderStage.allCases.map(\.rawValue),
        "webhook_deliveries.status": DeliveryStatus.allCases.map(\.rawValue),
    ]
    /// Columns with a CHECK list that no Swift enum mirrors: Swift writes them as SQL literals.
    static let checkedInSQLOnly: Set<String> = ["measurement_history.action"]

    static func database() throws -> Connection {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        return connection
    }

    /// Every one-column CHECK that lists values (`col IN ('a', 'b')`, which PostgreSQL keeps
    /// as `col = ANY (ARRAY['a'::text, ...])`), by "table.column".
    static func checkLists(_ connection: Connection) throws -> [String: [String]] {
        let rows = try connection.query(
            """
            SELECT c.conrelid::regclass::text || '.' || a.attname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'c' AND cardinality(c.conkey) = 1 AND c.connamespace = 'public'::regnamespace
              AND pg_get_constraintdef(c.oid) LIKE '%= ANY (ARRAY[%'
            """)
        let literal = try Regex("'((?:[^']|'')*)'::text")
        var lists: [String: [String]] = [:]
        for row in rows {
            let (column, definition) = try row.decode((String, String).self)
            lists[column, default: []] += definition.matches(of: literal).map {
                String($0.output[1].substring!).replacingOccurrences(of: "''", with: "'")
            }
        }
        return lists
    }

    @Test func everyStoredEnumEqualsItsCheckList() throws {
        let lists = try Self.checkLists(try Self.database())
        #expect(
            Set(lists.keys) == Set(Self.storedEnums.keys).union(Self.checkedInSQLOnly),
            "a CHECK list without its Swift enum here, or an enum whose CHECK is gone")
        for (column, cases) in Self.storedEnums.sorted(by: { $0.key < $1.key }) {
            #expect(
                Set(lists[column] ?? []) == Set(cases),
                "\(column): the database allows \(lists[column] ?? []), Swift has \(cases)")
            #expect(lists[column]?.count == cases.count, "\(column) lists a value twice")
        }
    }

    /// The comparison itself: a case on one side only is a difference it reports.
    @Test func aCaseAddedOnOneSideIsCaught() throws {
        let connection = try Self.database()
        try connection.execute(
            """
            ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
            ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('coordinator', 'partner', 'viewer', 'auditor'))
            """)
        let lists = try Self.checkLists(connection)
        #expect(Set(lists["api_keys.role"] ?? []) != Set(Role.allCases.map(\.rawValue)))
        #expect(Set(lists["indicators.value_type"] ?? []) == Set(ValueType.allCases.map(\.rawValue)))
    }

    /// The rollups scale a ratio's underlying value by SQL's ratio_scale; reports of raw rows
    /// by Swift's Indicator.scale: the same for every value type and aggregation.
    @Test func theRatioScaleIsOneRule() throws {
        let connection = try Self.database()
        for valueType in ValueType.allCases {
            for aggregation in AggregationMethod.allCases {
                let sql = try connection.query("SELECT ratio_scale(\(valueType.rawValue), \(aggregation.rawValue))")[0]
                    .decode(Double.self, at: 0)
                #expect(
                    sql == Indicator.scale(valueType: valueType, aggregation: aggregation),
                    "\(valueType) \(aggregation)")
            }
        }
    }
}
