import HTTPServer
import Logging
import NIOCore
import Postgres
import Testing

@testable import BackboneAPI

@Suite("Rendered reports kept in memory")
struct RenderedReportsTests {
    static func reports(capacity: Int) -> RenderedReports {
        let listener = ChangeListener(conninfo: "host=/nonexistent", channels: [], logger: Logger(label: "test")) { _ in
        }
        return RenderedReports(registry: ChangeAwareCache(listener: listener), capacityBytes: capacity)
    }

    static func response(bytes: Int) -> HTTPResponse {
        HTTPResponse(contentType: "application/json", body: [UInt8](repeating: UInt8(ascii: "1"), count: bytes))
    }

    /// Bodies and keys both count: many small reports under long distinct queries stay
    /// within the capacity, as one large report does.
    @Test func keptReportsStayWithinTheirCapacity() {
        let kept = Self.reports(capacity: 100_000)
        let stamp = RenderedReports.Stamp(snapshot: "10:10:", registryGeneration: 0)
        for index in 0..<2_000 {
            let key = RenderedReports.Key(
                report: .scorecard, audience: "all", representation: .json, path: "/v1/reports/scorecard",
                query: ["agenda", "\(index)" + String(repeating: "x", count: 400)])
            kept.keep(Self.response(bytes: 100), for: key, at: stamp)
            #expect(kept.count <= 100_000 / (100 + 400 + RenderedReports.entryCost))
        }
        #expect(kept.count > 0)
        // A response larger than an eighth of the capacity is not kept.
        let large = RenderedReports.Key(
            report: .scorecard, audience: "all", representation: .json, path: "/large", query: [])
        kept.keep(Self.response(bytes: 12_501), for: large, at: stamp)
        #expect(kept.response(for: large, at: stamp) == nil)
        // Another stamp: the kept responses are of no use to it, and go when it keeps one.
        let later = RenderedReports.Stamp(snapshot: "10:11:", registryGeneration: 0)
        #expect(
            kept.response(
                for: RenderedReports.Key(
                    report: .scorecard, audience: "all", representation: .json, path: "/v1/reports/scorecard",
                    query: ["agenda", "1999" + String(repeating: "x", count: 400)]), at: later) == nil)
        kept.keep(Self.response(bytes: 10), for: large, at: later)
        #expect(kept.count == 1)
        #expect(kept.response(for: large, at: later)?.body.readableBytes == 10)
    }

    /// A value that spells two parameters is not those two parameters.
    @Test func aQueryValueCannotPassForTwoParameters() {
        let kept = Self.reports(capacity: 100_000)
        let stamp = RenderedReports.Stamp(snapshot: "10:10:", registryGeneration: 0)
        let path = "/v1/reports/indicators/esl"
        kept.keep(
            Self.response(bytes: 10),
            for: RenderedReports.Key(
                report: .scorecard, audience: "all", representation: .json, path: path,
                query: ["within", "x&by=period"]), at: stamp)
        #expect(
            kept.response(
                for: RenderedReports.Key(
                    report: .scorecard, audience: "all", representation: .json, path: path,
                    query: ["within", "x", "by", "period"]), at: stamp) == nil)
        #expect(
            kept.response(
                for: RenderedReports.Key(
                    report: .scorecard, audience: "protected:", representation: .json, path: path,
                    query: ["within", "x&by=period"]), at: stamp) == nil)
        #expect(
            kept.response(
                for: RenderedReports.Key(
                    report: .scorecard, audience: "all", representation: .csv, path: path,
                    query: ["within", "x&by=period"]), at: stamp) == nil)
    }
}
