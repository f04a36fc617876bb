// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "attache",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "attache", targets: ["attache"]),
        .library(name: "AttacheRules", targets: ["AttacheRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
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
        .executableTarget(
            name: "attache",
            dependencies: [
                "AttacheRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
    ]
)
