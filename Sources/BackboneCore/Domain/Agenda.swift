import Aggregation
import Postgres

/// The common agenda an initiative works under.
public struct Agenda: RegistryRecord, Equatable {
    public var id: String
    public var name: String
    public var vision: String?
    public var startsOn: Day?
    public var endsOn: Day?
    public var active: Bool
    /// Days after a period ends until it is released automatically; `nil`: the deployment's setting.
    public var releaseAfterDays: Int?
    /// Days after a period ends until its numbers are due (docs/events.md#reminders); 30 unless set.
    public var reportingDueDays: Int

    public var key: String { id }
    public static var resource: RegistryResource { .agendas }
    public static let columns = Query(
        unsafeSQL: "id, name, vision, starts_on, ends_on, active, release_after_days, reporting_due_days")

    public static func decode(_ row: Row) throws -> Agenda {
        let (id, name, vision, startsOn, endsOn, active, releaseAfterDays, reportingDueDays) =
            try row.decode((String, String, String?, Day?, Day?, Bool, Int?, Int).self)
        return Agenda(
            id: id, name: name, vision: vision, startsOn: startsOn, endsOn: endsOn, active: active,
            releaseAfterDays: releaseAfterDays, reportingDueDays: reportingDueDays)
    }
}
