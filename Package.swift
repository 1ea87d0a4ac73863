// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Backbone",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "backbone", targets: ["BackboneCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // Webhooks: outgoing HTTP (AsyncHTTPClient) and their HMAC-SHA256 signatures (Crypto).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // libpq, the PostgreSQL C client library (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // Moments as ISO 8601 in UTC: the one spelling responses, logs and timestamptz share. No dependencies.
        .target(name: "UTCTime"),
        // A thin, safe Swift face for libpq: queries with bound parameters, typed rows, errors,
        // transactions, a connection pool that cancels the statement of a cancelled task, LISTEN for changes.
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "UTCTime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Backbone's one JSON stack: a strict byte-level parser and a writer. Depends only on UTCTime.
        .target(name: "JSON", dependencies: ["UTCTime"]),
        // One problem with one input field: the value both the domain and problem+json use.
        .target(name: "FieldIssues"),
        // A small HTTP/1.1 server on SwiftNIO: routing, negotiation, limits, timeouts, problem+json,
        // request logs and metrics.
        .target(
            name: "HTTPServer",
            dependencies: [
                "FieldIssues",
                "JSON",
                "UTCTime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Aggregation semantics: periods, how values combine; protection of what partner and viewer
        // keys read (the grid, the audit against each reader, its linear programs). No HTTP, no SQL.
        .target(name: "Aggregation", dependencies: ["JSON", "UTCTime"]),
        // The domain's plain values: an indicator and the report lines built for it. No HTTP, no SQL.
        .target(name: "DomainModel", dependencies: ["Aggregation"]),
        // Data quality's arithmetic: validation rules (their expressions parsed and evaluated)
        // and outlier scores against a series' own history. No HTTP, no SQL.
        .target(name: "DataQuality", dependencies: ["Aggregation"]),
        // The domain: schema and migrations, keys, registry, ingestion, the reports' storage side,
        // releases. Knows SQL, not HTTP.
        .target(
            name: "BackboneCore",
            dependencies: [
                "Aggregation",
                "DataQuality",
                "DomainModel",
                "FieldIssues",
                "JSON",
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The dashboard's drawing: report types in, HTML and SVG out. No HTTP, no SQL.
        .target(name: "Dashboard", dependencies: ["Aggregation", "DataQuality", "DomainModel", "FieldIssues"]),
        // The HTTP API: routes and wire types over BackboneCore.
        .target(
            name: "BackboneAPI",
            dependencies: [
                "Aggregation",
                "BackboneCore",
                "Dashboard",
                "DataQuality",
                "DomainModel",
                "HTTPServer",
                "JSON",
                "Postgres",
                "UTCTime",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The `backbone` command: serve, migrate, keys; the embedded PostgreSQL `serve` owns.
        .executableTarget(
            name: "BackboneCLI",
            dependencies: [
                "Aggregation",
                "BackboneAPI",
                "BackboneCore",
                "DataQuality",
                "HTTPServer",
                "Postgres",
                "UTCTime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers the test targets share: a raw HTTP client, test databases (a missing
        // BACKBONE_TEST_DATABASE_URL fails each test that needs one, naming the variable),
        // the built `backbone` executable. A server over the API (TestApp) stays in BackboneAPITests.
        .target(name: "TestSupport", dependencies: ["Postgres"], path: "Tests/TestSupport"),
        // One test target per module, named after it.
        .testTarget(
            name: "PostgresTests",
            dependencies: [
                "Postgres", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Aggregation", "Dashboard", "DataQuality", "DomainModel", "FieldIssues", "TestSupport"],
            exclude: ["Snapshots"]),
        .testTarget(
            name: "BackboneCoreTests",
            dependencies: [
                "Aggregation", "BackboneCore", "DataQuality", "DomainModel", "JSON", "Postgres", "TestSupport",
            ]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "DataQualityTests", dependencies: ["Aggregation", "DataQuality"]),
        .testTarget(
            name: "AggregationTests",
            dependencies: ["Aggregation", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer",
                "TestSupport",
                "UTCTime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BackboneAPITests",
            dependencies: [
                "Aggregation", "BackboneAPI", "BackboneCore", "DataQuality", "DomainModel", "HTTPServer", "JSON",
                "Postgres", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // The `backbone` command: run as a user runs it, the built executable in processes of
        // its own (TestSupport's BackboneProcess), and its parts in process (`@testable import`).
        .testTarget(
            name: "BackboneCLITests",
            dependencies: [
                "BackboneCLI", "BackboneCore", "JSON", "Postgres", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
