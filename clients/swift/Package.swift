// swift-tools-version:6.0
// An example client of Backbone, generated from the repository's openapi.yaml by the
// swift-openapi-generator build plugin. The server package does not depend on it.
//
//     swift build --package-path clients/swift --scratch-path .build-client-swift
//     clients/swift/.build/debug/backbone-walk http://127.0.0.1:8080 "$COORDINATOR_KEY"
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
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ]
)
