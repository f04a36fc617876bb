// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "attache",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "attache", targets: ["attache"]),
        .library(name: "AttacheRules", targets: ["AttacheRules"]),
        .library(name: "AttacheRelay", targets: ["AttacheRelay"]),
        // The llhttp comparison used by the tests and the differential fuzz target.
        .library(name: "HTTPDifferential", targets: ["HTTPDifferential"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .target(
            name: "AttacheRules",
            dependencies: ["CLibYAML"]
        ),
        .target(
            name: "AttacheRelay",
            dependencies: [
                "AttacheRules",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
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
                "AttacheRelay",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AttacheRulesTests",
            dependencies: ["AttacheRules"]
        ),
        .testTarget(
            name: "AttacheCLITests",
            dependencies: ["attache"]
        ),
        .testTarget(
            name: "AttacheRelayTests",
            dependencies: [
                "AttacheRelay",
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
