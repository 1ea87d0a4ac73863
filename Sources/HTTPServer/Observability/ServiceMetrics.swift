import CoreMetrics
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus

/// The service's metrics: swift-metrics instruments backed by a Prometheus registry of
/// the service's own (not the process-wide `MetricsSystem`, so that every server a test
/// starts counts alone), emitted in the Prometheus text format at `/metrics`.
///
/// The request instruments are looked up once per (method, route, status) and cached,
/// so recording a request costs one lock and one dictionary probe.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Makes swift-metrics instruments that report into `registry`.
    public let factory: PrometheusMetricsFactory
    private let requestInstruments = NIOLockedValueBox<[RequestKey: RequestInstruments]>([:])

    private struct RequestKey: Hashable {
        var method: String
        var route: String
        var status: UInt
    }

    private struct RequestInstruments: @unchecked Sendable {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
    }

    /// Counts an answered request and records how long it took.
    func recordRequest(method: HTTPMethod, route: String?, status: HTTPResponseStatus, duration: Duration) {
        let key = RequestKey(method: method.rawValue, route: route ?? "unmatched", status: status.code)
        let instruments = requestInstruments.withLockedValue { cache in
            if let found = cache[key] { return found }
            let dimensions = [("method", method.rawValue), ("route", key.route), ("status", String(key.status))]
            let made = RequestInstruments(
                count: CoreMetrics.Counter(label: "http_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(
                    label: "http_request_duration_seconds", dimensions: dimensions, factory: factory))
            cache[key] = made
            return made
        }
        instruments.count.increment()
        instruments.duration.record(duration)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
