import DataQuality
import FieldIssues
import TestSupport
import Testing

@testable import Dashboard

/// The upload page drawn from hand-made dry runs: each error and warning on its row and
/// cell, an outlier with its expected range and history, and everything escaped.
@Suite("Upload page")
struct UploadPageTests {
    static let uploader = UploadModel.Uploader(
        partnerName: "Central <Library>", agendas: [.init(id: "literacy", name: "Every adult reads")])

    static func review(isPartial: Bool = false, errors: [FieldIssue]? = nil) -> UploadModel.Review {
        UploadModel.Review(
            fileName: "march<1>.csv", isPartial: isPartial,
            columns: [
                ("Indicator", "indicator"), ("neighborhood", "neighborhood"), ("period", "period"), ("value", "value"),
                ("Dim. Age Group", "dimensions.age_group"),
            ],
            rows: [
                .init(number: 1, cells: ["enrolled", "northside", "2026-03", "abc", "16-24"]),
                .init(number: 2, cells: ["completed", "northside", "2026-03", "50", "16-24"]),
                .init(number: 3, cells: ["enrolled", "southside", "2026-03", "1000", "<b>"]),
            ],
            rowsLeftOut: 0,
            counts: .init(received: 3, created: 2, updated: 0, unchanged: 0, rejected: 1),
            errors: errors ?? [
                FieldIssue(row: 1, line: 2, field: "value", code: "not-numeric", message: "\"abc\" is not a number"),
                FieldIssue(row: 1, line: 2, field: "partner", code: "required", message: "is required"),
            ],
            warnings: [
                QualityWarning(
                    row: 2, field: "value", code: .ruleViolated, message: "completed (50) > enrolled (40)",
                    rule: "completed-le-enrolled"),
                QualityWarning(
                    row: 3, field: "value", code: .outlier, message: "1000 is far from this series' history",
                    score: 42.5, expected: 88.5...111.25),
            ],
            history: [3: [(period: "2026-01", value: 101), (period: "2026-02", value: 99.5)]],
            content: "indicator,value\n\"<script>\",1\n", idempotencyKey: "k-1")
    }

    @Test func eachErrorAndWarningSitsOnItsRowAndCell() throws {
        let html = UploadPage.review(Self.uploader, Self.review())
        let value = try #require(UploadTable.cell(html, row: 1, field: "value"))
        #expect(value.contains("class=\"cell-error\""))
        #expect(value.contains("abc"))
        #expect(value.contains("data-code=\"not-numeric\""))
        #expect(value.contains("&quot;abc&quot; is not a number"))
        // A field that is no column of the file goes in the row's last cell.
        let rest = try #require(UploadTable.cell(html, row: 1, field: "row"))
        #expect(rest.contains("data-code=\"required\"") && rest.contains("is required"))
        #expect(html.contains("<tr id=\"row-1\" data-row=\"1\" class=\"has-error\">"))

        let rule = try #require(UploadTable.cell(html, row: 2, field: "value"))
        #expect(rule.contains("class=\"cell-warning\""))
        #expect(rule.contains("data-code=\"rule-violated\""))
        #expect(rule.contains("rule completed-le-enrolled"))
        #expect(rule.contains("completed (50) &gt; enrolled (40)"))

        let outlier = try #require(UploadTable.cell(html, row: 3, field: "value"))
        #expect(outlier.contains("data-code=\"outlier\""))
        #expect(outlier.contains("<span data-bound=\"low\">88.5</span>–<span data-bound=\"high\">111.25</span>"))
        #expect(outlier.contains("<table class=\"history\">"))
        #expect(outlier.contains("<th scope=\"row\">2026-01</th><td class=\"num\">101</td>"))
        #expect(outlier.contains("<th scope=\"row\">2026-02</th><td class=\"num\">99.5</td>"))
        // Other cells carry no problem.
        #expect(UploadTable.cell(html, row: 3, field: "period")?.contains("issue") == false)
        #expect(UploadTable.cell(html, row: 3, field: "dimensions.age_group")?.contains("&lt;b&gt;") == true)
    }

    @Test func theSummaryCountsAndInModeAllNoStoreUntilTheErrorsAreFixed() {
        let html = UploadPage.review(Self.uploader, Self.review())
        #expect(html.contains("data-count=\"received\">3<"))
        #expect(html.contains("data-count=\"created\">2<"))
        #expect(html.contains("data-count=\"rejected\">1<"))
        #expect(html.contains("data-count=\"errors\">2<"))
        #expect(html.contains("data-count=\"warnings\">2<"))
        #expect(html.contains("Nothing is stored yet"))
        #expect(!html.contains("action=\"/dashboard/upload/store\""))
        // In mode partial the valid rows can be stored.
        let partial = UploadPage.review(Self.uploader, Self.review(isPartial: true))
        #expect(partial.contains("action=\"/dashboard/upload/store\""))
        #expect(partial.contains("<button type=\"submit\" id=\"store\">Store 2 rows</button>"))
        #expect(partial.contains("<input type=\"radio\" name=\"mode\" value=\"partial\" checked>"))
    }

    @Test func theStoreFormCarriesTheFileEscapedAndTheKey() {
        let html = UploadPage.review(Self.uploader, Self.review(errors: []))
        #expect(html.contains("<input type=\"hidden\" name=\"idempotency_key\" value=\"k-1\">"))
        #expect(html.contains("<input type=\"hidden\" name=\"mode\" value=\"all\">"))
        #expect(html.contains("value=\"indicator,value\n&quot;&lt;script&gt;&quot;,1\n\""))
        #expect(html.contains("name=\"file_name\" value=\"march&lt;1&gt;.csv\""))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("Central &lt;Library&gt;"))
        #expect(
            UploadPage.form(Self.uploader).contains("href=\"/dashboard/upload/template.csv?agenda=literacy\""))
        #expect(html.contains("enctype=\"multipart/form-data\""))
    }

    @Test func theStoredPageShowsTheImportSummaryAndItsWarnings() {
        let review = Self.review()
        let html = UploadPage.stored(
            Self.uploader,
            UploadModel.Stored(
                fileName: "march.csv", batchID: "b-1", isPartial: false,
                counts: .init(received: 2, created: 1, updated: 1, unchanged: 0, rejected: 0), errors: [],
                warnings: review.warnings))
        #expect(html.contains("<code class=\"batch\">b-1</code>"))
        #expect(html.contains("data-count=\"created\">1<"))
        #expect(html.contains("data-count=\"updated\">1<"))
        #expect(html.contains("data-count=\"warnings\">2<"))
        #expect(html.contains("<strong>row 3, value</strong>: 1000 is far from this series&#39; history"))
        #expect(html.contains("data-code=\"rule-violated\""))
    }

    @Test func aRefusedFileIsShownWithItsProblemsAndTheFormAgain() {
        let html = UploadPage.form(
            Self.uploader,
            refusal: .init(
                title: "The request is malformed", message: "Unknown <column>",
                issues: [FieldIssue(field: "colour", code: "unknown-column", message: "is not a column")]))
        #expect(html.contains("role=\"alert\""))
        #expect(html.contains("Unknown &lt;column&gt;"))
        #expect(html.contains("<strong>colour</strong>: is not a column"))
        #expect(html.contains("<form method=\"post\" action=\"/dashboard/upload\" enctype=\"multipart/form-data\">"))
        #expect(html.contains("value=\"all\" checked"))
    }
}
