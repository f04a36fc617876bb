// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "attache",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "attache", targets: ["attache"]),
        .library(name: "AttacheRules", targets: ["AttacheRules"]),
        .library(name: "AttacheTelemetry", targets: ["AttacheTelemetry"]),
        .library(name: "AttacheRelay", targets: ["AttacheRelay"]),
        .library(name: "AttacheAdmin", targets: ["AttacheAdmin"]),
        // The llhttp comparison used by the tests and the differential fuzz target.
        .library(name: "HTTPDifferential", targets: ["HTTPDifferential"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .target(
            name: "AttacheRules",
            dependencies: ["CLibYAML"],
            swiftSettings: releaseSettings
        ),
        .target(
            name: "AttacheTelemetry",
            dependencies: [
                "AttacheRules",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSettings
        ),
        .target(
            name: "AttacheRelay",
            dependencies: [
                "AttacheRules",
                "AttacheTelemetry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: releaseSettings
        ),
        .target(
            name: "AttacheAdmin",
            dependencies: [
                "AttacheRules",
                "AttacheTelemetry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HTTPDifferential",
            dependencies: [
                "AttacheRelay",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "attache",
            dependencies: [
                "AttacheRules",
                "AttacheTelemetry",
                "AttacheRelay",
                "AttacheAdmin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test helpers shared by the test targets (a ConfigMap-style rules directory).
        .target(
            name: "AttacheTestSupport",
            path: "Tests/AttacheTestSupport"
        ),
        .testTarget(
            name: "AttacheRulesTests",
            dependencies: ["AttacheRules", "AttacheTestSupport"]
        ),
        .testTarget(
            name: "AttacheTelemetryTests",
            dependencies: [
                "AttacheTelemetry", "AttacheRules", .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "AttacheAdminTests",
            dependencies: ["AttacheAdmin", "AttacheTelemetry", "AttacheRules"]
        ),
        .testTarget(
            name: "AttacheCLITests",
            dependencies: ["attache", "AttacheTestSupport"]
        ),
        .testTarget(
            name: "AttacheRelayTests",
            dependencies: [
                "AttacheRelay",
                "AttacheTelemetry",
                "AttacheAdmin",
                "HTTPDifferential",
                "AttacheRules",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)

/// Release builds of attache's own modules skip the runtime exclusivity checks: measured with
/// callgrind (bench/run, scenario "instructions"), swift_beginAccess and its bookkeeping were 16 %
/// of the instructions per proxied request. Debug builds, and so every test run, keep the checks.
var releaseSettings: [SwiftSetting] {
    [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
