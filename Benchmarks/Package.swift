// swift-tools-version:6.1
// Micro-benchmarks (ordo-one/benchmark), kept out of the main package so CI never builds them.
// Run: swift package --package-path Benchmarks benchmark   (see docs/rules.md, "Speed")
// Also nio-relay-floor, a bare SwiftNIO byte relay whose instructions per request bench/run counts
// next to attache's (docs/performance.md).
import PackageDescription

let package = Package(
    name: "attache-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "attache", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "nio-relay-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "rules-profile",
            dependencies: [.product(name: "AttacheRules", package: "attache")]
        ),
        .executableTarget(
            name: "RuleTable",
            dependencies: [
                .product(name: "AttacheRules", package: "attache"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuleTable",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Telemetry",
            dependencies: [
                .product(name: "AttacheRules", package: "attache"),
                .product(name: "AttacheTelemetry", package: "attache"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Telemetry",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
