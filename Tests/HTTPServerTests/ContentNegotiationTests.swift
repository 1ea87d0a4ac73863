import HTTPServer
import Testing

@Suite("Content negotiation (RFC 9110 §12.5.1)")
struct ContentNegotiationTests {
    static let offers: [Representation] = [.json, .csv]

    static func chosen(_ accept: String?) -> String? {
        ContentNegotiation.choose(offers, accept: accept)?.format
    }

    @Test(
        arguments: [
            (nil, "json"),
            ("", "json"),
            ("application/json", "json"),
            ("text/csv", "csv"),
            // Both allowed equally: JSON, whatever the order.
            ("application/json, text/csv", "json"),
            ("text/csv, application/json", "json"),
            ("application/json;q=1.0, text/csv;q=0.1", "json"),
            ("text/csv;q=0.9, application/json;q=0.5", "csv"),
            ("text/*", "csv"),
            ("*/*", "json"),
            ("*/*;q=0.1, text/csv", "csv"),
            // The most specific range decides: text/csv is refused even though */* allows it.
            ("text/csv;q=0, */*", "json"),
            ("application/json;q=0, text/*;q=0.2", "csv"),
            ("TEXT/CSV; charset=utf-8", "csv"),
            ("text/csv ; q=0.5 , application/json ; q=0.4", "csv"),
            // Unreadable elements are skipped; a header with none readable counts as absent.
            ("garbage, text/csv", "csv"),
            ("garbage", "json"),
            ("text/csv;q=2, application/json;q=0.1", "json"),
        ] as [(String?, String)])
    func chooses(accept: String?, expected: String) {
        #expect(Self.chosen(accept) == expected, "Accept: \(accept ?? "(none)")")
    }

    @Test(arguments: [
        "text/csv;q=0", "text/html", "application/xml, text/plain", "application/json;q=0, text/csv;q=0", "*/*;q=0",
    ])
    func refusesWhenNothingIsAcceptable(accept: String) {
        #expect(Self.chosen(accept) == nil, "Accept: \(accept)")
    }

    @Test func parsesWeights() {
        let ranges = ContentNegotiation.parse("text/csv;q=0.5, application/*, */*;q=0")
        #expect(
            ranges == [
                .init(type: "text", subtype: "csv", quality: 0.5), .init(type: "application", subtype: "*"),
                .init(type: "*", subtype: "*", quality: 0),
            ])
        #expect(ContentNegotiation.quality(of: .csv, in: ranges) == 0.5)
        #expect(ContentNegotiation.quality(of: .json, in: ranges) == 1)
        #expect(ContentNegotiation.quality(of: .yaml, in: ranges) == 1)
    }

    @Test(arguments: [
        ("dryrun", "dry_run"), ("dry-run", "dry_run"), ("DRY_RUN", "dry_run"), ("perod", "period"),
        ("peroid", "period"),
        ("batchid", "batch_id"), ("neighbourhood", "neighborhood"), ("limt", "limit"),
    ])
    func suggestsTheClosestParameter(typed: String, meant: String) {
        let accepted = [
            "indicator", "partner", "neighborhood", "period", "from", "to", "batch_id", "limit", "cursor", "format",
            "mode", "dry_run",
        ]
        #expect(RouteContract.suggestion(for: typed, among: accepted) == meant)
    }

    @Test func suggestsNothingFarFetched() {
        #expect(RouteContract.suggestion(for: "colour", among: ["limit", "cursor"]) == nil)
        #expect(RouteContract.suggestion(for: "x", among: ["by", "to"]) == nil)
        #expect(RouteContract.suggestion(for: "anything", among: []) == nil)
    }
}
