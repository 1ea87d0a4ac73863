// swift-tools-version:6.0
// An example client of Backbone, generated from the repository's openapi.yaml by the
// swift-openapi-generator build plugin. The server package does not depend on it.
//
//     swift build --package-path clients/swift --scratch-path .build-clients/swift
//     .build-clients/swift/debug/backbone-walk http://127.0.0.1:8080 "$COORDINATOR_KEY"
//
// (clients/run.sh does both, and fails on any warning.)
import PackageDescription

let package = Package(
    name: "BackboneClient",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "backbone-walk", targets: ["BackboneWalk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
    ],
    targets: [
        // An end-to-end walk against a live server, as a coordinator and a partner would,
        // through the client generated from openapi.yaml (a symlink to the repository's
        // contract, so the client never drifts from it) by the build plugin.
        .executableTarget(
            name: "BackboneWalk",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ]
)
