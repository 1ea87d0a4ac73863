import Aggregation
import Testing

@Suite("Periods as people write them")
struct PeriodTests {
    @Test(arguments: [
        ("2026", "2026-01-01", "2027-01-01"),
        ("2026-Q3", "2026-07-01", "2026-10-01"),
        ("2026-Q4", "2026-10-01", "2027-01-01"),
        ("2026-10", "2026-10-01", "2026-11-01"),
        ("2026-12", "2026-12-01", "2027-01-01"),
        ("2026-W01", "2025-12-29", "2026-01-05"),
        ("2026-W05", "2026-01-26", "2026-02-02"),
        ("2020-W53", "2020-12-28", "2021-01-04"),
        ("2026-W53", "2026-12-28", "2027-01-04"),
    ])
    func parsesAndSpans(_ text: String, _ start: String, _ end: String) throws {
        let period = try #require(Period(text))
        #expect(period.description == text)
        #expect(period.start.description == start)
        #expect(period.end.description == end)
    }

    @Test(arguments: [
        "2026-13", "2026-00", "2026-Q5", "2026-Q0", "2026-W54", "2025-W53", "26", "2026-1", "2026/10", "2026-10-01", "",
        "abcd", "2026-w05", "2026-q3",
    ])
    func refusesWhatIsNotAPeriod(_ text: String) {
        #expect(Period(text) == nil)
    }

    @Test func daysParseOnlyWhenTheyExist() {
        #expect(Day("2024-02-29") == Day(year: 2024, month: 2, day: 29))
        #expect(Day("2024-02-29")?.description == "2024-02-29")
        for text in ["2025-02-29", "2026-04-31", "2026-13-01", "2026-1-01", "26-01-01", "2026-01-01T00:00"] {
            #expect(Day(text) == nil, "\(text)")
        }
    }

    @Test func ordersByStartThenLength() throws {
        let periods = ["2026-02", "2026", "2026-Q1", "2025-12", "2026-01"].compactMap(Period.init)
        #expect(periods.sorted().map(\.description) == ["2025-12", "2026", "2026-Q1", "2026-01", "2026-02"])
    }

    @Test(arguments: [
        ("2026-01-01", PeriodType.week, "2026-W01"), ("2025-12-29", .week, "2026-W01"),
        ("2025-12-28", .week, "2025-W52"), ("2027-01-03", .week, "2026-W53"), ("2027-01-04", .week, "2027-W01"),
        ("2021-01-03", .week, "2020-W53"), ("2026-08-15", .month, "2026-08"), ("2026-08-15", .quarter, "2026-Q3"),
        ("2026-12-31", .year, "2026"),
    ])
    func theDayIsInThePeriodContainingIt(_ day: String, _ type: PeriodType, _ expected: String) throws {
        let date = try #require(Day(day))
        let period = try #require(Period.containing(date, type: type))
        #expect(period.description == expected)
        #expect(period.start <= date && date <= period.lastDay)
    }

    @Test func followingStepsToTheNextPeriodAcrossYears() {
        #expect(Period("2026-W53")?.following?.description == "2027-W01")
        #expect(Period("2026-12")?.following?.description == "2027-01")
        #expect(Period("2026-Q4")?.following?.description == "2027-Q1")
        #expect(Period("2026-W52")?.following?.description == "2026-W53")
    }
}
