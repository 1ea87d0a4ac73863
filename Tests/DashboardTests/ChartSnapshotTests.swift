import Aggregation
import Dashboard
import DomainModel
import Foundation
import Testing

/// The charts drawn for fixed data, compared with the SVG files under `Snapshots/`.
/// Set `RECORD_SNAPSHOTS=1` to write the current output as the expected files instead.
@Suite("Chart snapshots")
struct ChartSnapshotTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots")

    func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws
    {
        let url = Self.directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "no snapshot \(name); run with RECORD_SNAPSHOTS=1 to record it", sourceLocation: sourceLocation)
            return
        }
        if actual != expected {
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }
            let difference =
                first.map { "line \($0.offset + 1):\n  expected: \($0.element.1)\n  actual:   \($0.element.0)" }
                ?? "lengths differ"
            Issue.record(
                "\(name) differs from its snapshot at \(difference)\n(RECORD_SNAPSHOTS=1 re-records)",
                sourceLocation: sourceLocation)
        }
    }

    @Test func trendChartWithBaselineTargetProjectionGapAndSuppressedPeriod() throws {
        try assertSnapshot(TrendChart.svg(Fixtures.panel()), named: "trend-suppressed.svg")
    }

    @Test func trendChartAsTheCoordinatorSeesIt() throws {
        try assertSnapshot(TrendChart.svg(Fixtures.panel(suppressed: false)), named: "trend-coordinator.svg")
    }

    @Test func trendChartWithoutTarget() throws {
        try assertSnapshot(TrendChart.svg(Fixtures.panel(target: false)), named: "trend-no-target.svg")
    }

    @Test func neighborhoodChartSortedByGapWithASuppressedBar() throws {
        try assertSnapshot(NeighborhoodChart.svg(Fixtures.panel()), named: "neighborhoods-suppressed.svg")
    }

    @Test func neighborhoodChartComparingValuesIsAsBefore() throws {
        try assertSnapshot(NeighborhoodChart.svg(Fixtures.panel(rates: false)), named: "neighborhoods-values.svg")
    }

    @Test func neighborhoodChartWithoutTargetIsWorstFirst() throws {
        try assertSnapshot(
            NeighborhoodChart.svg(Fixtures.panel(suppressed: false, target: false)),
            named: "neighborhoods-no-target.svg")
    }

    @Test func aSuppressedCellIsNeverDrawnAsZero() {
        let svg = NeighborhoodChart.svg(Fixtures.panel())
        #expect(svg.contains("class=\"bar suppressed\" data-neighborhood=\"southside\""))
        #expect(svg.contains("suppressed: not shown"))
        #expect(!svg.contains("Southside: 0"))
        let trend = TrendChart.svg(Fixtures.panel())
        #expect(trend.contains("class=\"suppressed\" data-period=\"2025-06\""))
        #expect(!trend.contains("r=\"4\" data-period=\"2025-06\""))
        #expect(!trend.contains("2025-06: 0"))
    }

    @Test func aMissingPeriodBreaksTheLineInsteadOfDroppingToZero() {
        let points = TrendChart.points(Fixtures.panel(suppressed: false))
        let april = points.first { $0.period.description == "2025-04" }
        #expect(april?.point == .missing)
        let svg = TrendChart.svg(Fixtures.panel(suppressed: false))
        // Two runs: Jan–Mar and May–Aug (to the target period Dec, then nothing).
        #expect(svg.components(separatedBy: "<path class=\"run\"").count - 1 == 2)
    }

    @Test func eachChartHasATitleAxisLabelsAndATextAlternative() {
        for svg in [TrendChart.svg(Fixtures.panel()), NeighborhoodChart.svg(Fixtures.panel())] {
            #expect(svg.contains("<title id="))
            #expect(svg.contains("<desc id="))
            #expect(svg.contains("role=\"img\""))
            #expect(svg.contains("class=\"axis-label x\""))
            #expect(svg.contains("class=\"axis-label y\""))
        }
    }

    @Test func partnerWrittenTextIsEscaped() {
        let svg = NeighborhoodChart.svg(Fixtures.panel())
        #expect(!svg.contains("<side>"))
        #expect(svg.contains("North &lt;side&gt; &amp; &quot;Co&quot;"))
        var panel = Fixtures.panel()
        panel.line.indicator.name = "</title><script>alert(1)</script>"
        for text in [TrendChart.svg(panel), NeighborhoodChart.svg(panel), DashboardPage.html(Self.model(panel))] {
            #expect(!text.contains("<script>"))
            #expect(text.contains("&lt;/title&gt;&lt;script&gt;"))
        }
        let grid = CompletenessView.html(Fixtures.completeness())
        #expect(grid.contains("Grace &lt;Church&gt;"))
    }

    @Test func escapeCoversEveryMarkupCharacter() {
        #expect(
            Escape.html("<a href=\"x\" title='y'>&</a>")
                == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(Escape.html("bell\u{7}") == "bell\u{FFFD}")
        #expect(Escape.slug("esl_learners-2") == "esl_learners-2")
        #expect(Escape.slug("a b\"<") == "a%20b%22%3C")
    }

    @Test func completenessGridTellsReportedMissingAndLate() {
        let grid = Fixtures.completeness()
        #expect(grid.cell(partner: "grace-church", column: 0)?.state == .late)  // 2025-Q3, long past
        #expect(grid.cell(partner: "central-library", column: 1)?.state == .reported)
        #expect(grid.cell(partner: "central-library", column: 2)?.state == .missing)  // 2026-Q1 ended 10 days ago
        try? assertSnapshot(CompletenessView.html(grid), named: "completeness.html")
    }

    static func model(_ panel: IndicatorPanel, audience: DashboardModel.Audience = .viewer) -> DashboardModel {
        DashboardModel(
            agenda: .init(id: "literacy", name: "Every adult reads", vision: "Read & <write>"),
            agendas: [.init(id: "literacy", name: "Every adult reads")],
            audience: audience, indicators: [panel],
            completeness: audience == .coordinator ? Fixtures.completeness() : nil)
    }

    @Test func theViewerPageHasNoCompletenessGridAndExplainsSuppression() {
        let viewer = DashboardPage.html(Self.model(Fixtures.panel(), audience: .viewer))
        #expect(!viewer.contains("id=\"completeness\""))
        #expect(viewer.contains("suppressed"))
        #expect(!viewer.contains("<script"))
        let coordinator = DashboardPage.html(Self.model(Fixtures.panel(suppressed: false), audience: .coordinator))
        #expect(coordinator.contains("id=\"completeness\""))
        #expect(coordinator.contains("/dashboard/charts/esl_learners/trend.svg"))
        #expect(coordinator.contains("@media print"))
    }

    /// A count where no neighborhood has a population: the counts are drawn, unranked, and
    /// never against the community's target.
    @Test func countsWithoutPopulationsAreNotDrawnAgainstTheCommunityTarget() {
        var panel = Fixtures.panel(suppressed: false)
        for index in panel.neighborhoods.indices {
            panel.neighborhoods[index].cell.per1000 = nil
            panel.neighborhoods[index].population = nil
            panel.neighborhoods[index].gap = nil
            panel.neighborhoods[index].gapReason = .noPopulation
        }
        let svg = NeighborhoodChart.svg(panel)
        #expect(svg.contains("Counts: no neighborhood has a population recorded"))
        #expect(svg.contains("120 learners") && !svg.contains("per 1,000"))
        #expect(!svg.contains("target-line"))
    }

    @Test func numbersAreWrittenForPeople() {
        // A count is drawn per 1,000 residents, its value beside it.
        #expect(NeighborhoodChart.svg(Fixtures.panel()).contains("1.2 per 1,000 · 120 learners"))
        #expect(NeighborhoodChart.svg(Fixtures.panel()).contains("Target 2.9 per 1,000"))
        #expect(NeighborhoodChart.svg(Fixtures.panel(rates: false)).contains("120 learners · 1.2 per 1,000"))
        #expect(TrendChart.svg(Fixtures.panel()).contains("Target 900 learners"))
    }
}
