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
        .library(name: "Messages", targets: ["Messages"]),
        .library(name: "EffectivelyOnce", targets: ["EffectivelyOnce"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Services", targets: ["Services"]),
        .library(name: "Audit", targets: ["Audit"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "Credentials", targets: ["Credentials"]),
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
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
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
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Credentials",
            dependencies: [
                "Authority",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Messages",
            dependencies: [
                "Authority", "EffectivelyOnce", "Kafka", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "EffectivelyOnce",
            dependencies: [
                "Kafka", "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Store",
            dependencies: ["Authority", "Messages", "Postgres", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Operations",
            dependencies: [
                "Authority",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .target(
            name: "Services",
            dependencies: [
                "Authority", "Messages", "EffectivelyOnce", "Store", "Operations", "Kafka", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .target(
            name: "Pages",
            dependencies: [
                "Authority", "Messages", "Store", "Operations", "Kafka", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .target(
            name: "Audit",
            dependencies: ["Authority", "Messages", "EffectivelyOnce", "Services", "Store", "Operations", "Kafka", "Postgres", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Simulation",
            dependencies: ["Authority", "Messages"]
        ),
        .target(
            name: "ServiceCommands",
            dependencies: [
                "Authority", "Messages", "Services",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "coordinator", dependencies: ["ServiceCommands", "Services", "Pages", "Messages", "EffectivelyOnce", "Authority", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .executableTarget(name: "industry-trade-worker", dependencies: ["ServiceCommands"]),
        .executableTarget(name: "environment-worker", dependencies: ["ServiceCommands"]),
        .executableTarget(name: "labour-worker", dependencies: ["ServiceCommands"]),
        .executableTarget(name: "culture-worker", dependencies: ["ServiceCommands"]),
        .executableTarget(name: "industrial-zones-worker", dependencies: ["ServiceCommands"]),
        .executableTarget(
            name: "devbroker",
            dependencies: [
                "Kafka",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "motcua",
            dependencies: [
                "Authority", "Kafka", "Postgres", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit",
                "Simulation", "ServiceCommands", "Credentials",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "Messages", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport"]),
        .testTarget(name: "AuthorityTests", dependencies: ["Authority"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Authority", "Credentials"]),
        .testTarget(name: "MessagesTests", dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport"]),
        .testTarget(
            name: "EffectivelyOnceTests",
            dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        .testTarget(
            name: "ServicesTests",
            dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        .testTarget(name: "PagesTests", dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport"]),
        .testTarget(name: "LayoutTests", dependencies: ["TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Credentials", "Authority", "Messages", "EffectivelyOnce", "Store", "Services", "Pages", "Audit", "Simulation", "ServiceCommands", "Operations", "Kafka", "Postgres", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
