// swift-tools-version:6.0
// libFuzzer targets, kept out of the main package so normal builds never link them.
// Build and run: ../.ci/fuzz (or see docs/testing.md).
import PackageDescription

let package = Package(
    name: "attache-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "attache", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "fuzz-rules",
            dependencies: [.product(name: "AttacheRules", package: "attache")]
        ),
        .executableTarget(
            name: "fuzz-template",
            dependencies: [.product(name: "AttacheRules", package: "attache")]
        ),
        .executableTarget(
            name: "fuzz-relay",
            dependencies: [
                .product(name: "AttacheRelay", package: "attache"),
                .product(name: "AttacheRules", package: "attache"),
            ]
        ),
        .executableTarget(
            name: "fuzz-http",
            dependencies: [.product(name: "HTTPDifferential", package: "attache")]
        ),
    ]
)
