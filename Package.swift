// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "MotCua",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "motcua", targets: ["motcua"]),
        .executable(name: "devbroker", targets: ["devbroker"]),
        .executable(name: "coordinator", targets: ["coordinator"]),
        .executable(name: "industry-trade-worker", targets: ["industry-trade-worker"]),
        .executable(name: "environment-worker", targets: ["environment-worker"]),
        .executable(name: "labour-worker", targets: ["labour-worker"]),
        .executable(name: "culture-worker", targets: ["culture-worker"]),
        .executable(name: "industrial-zones-worker", targets: ["industrial-zones-worker"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Authority", targets: ["Authority"]),
        .library(name: "Processing", targets: ["Processing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "Kafka",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Authority",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Processing",
            dependencies: [
                "Authority", "Kafka", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "coordinator", dependencies: ["Processing"]),
        .executableTarget(name: "industry-trade-worker", dependencies: ["Processing"]),
        .executableTarget(name: "environment-worker", dependencies: ["Processing"]),
        .executableTarget(name: "labour-worker", dependencies: ["Processing"]),
        .executableTarget(name: "culture-worker", dependencies: ["Processing"]),
        .executableTarget(name: "industrial-zones-worker", dependencies: ["Processing"]),
        .executableTarget(
            name: "devbroker",
            dependencies: [
                "Kafka",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "motcua",
            dependencies: [
                "Authority", "Kafka", "Postgres", "Processing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "Kafka", "Processing", "TestSupport"]),
        .testTarget(name: "AuthorityTests", dependencies: ["Authority"]),
        .testTarget(
            name: "ProcessingTests",
            dependencies: ["Processing", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["Processing", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
