// swift-tools-version:6.1
// Release-mode benchmark executables, kept out of the main package so that its build stays fast.
// Run them through ./tools/bench, which also measures the raw baselines in the same run.
import PackageDescription

let package = Package(
    name: "MotCuaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "MotCua", path: ".."),
    ],
    targets: [
        // What every benchmark executable shares: SplitMix64, uuidBytes, median, seconds, fail.
        .target(name: "BenchSupport"),
        .executableTarget(
            name: "AuthorityBench",
            dependencies: [.product(name: "Authority", package: "MotCua"), "BenchSupport"]
        ),
        .executableTarget(
            name: "KafkaBench",
            dependencies: [.product(name: "Kafka", package: "MotCua"), "CKafkaRaw", "BenchSupport"]
        ),
        .executableTarget(
            name: "PostgresBench",
            dependencies: [.product(name: "Postgres", package: "MotCua"), "CPostgresRaw", "BenchSupport"]
        ),
        .executableTarget(
            name: "CoordinatorBench",
            dependencies: [
                .product(name: "Messages", package: "MotCua"), .product(name: "EffectivelyOnce", package: "MotCua"), .product(name: "Store", package: "MotCua"), .product(name: "Services", package: "MotCua"), .product(name: "Audit", package: "MotCua"), .product(name: "Simulation", package: "MotCua"), .product(name: "Postgres", package: "MotCua"), "BenchSupport",
            ]
        ),
        // Raw C baselines measured in the same run as the Swift modules.
        .target(name: "CKafkaRaw", linkerSettings: [.linkedLibrary("rdkafka")]),
        .target(name: "CPostgresRaw", linkerSettings: [.linkedLibrary("pq")]),
        // One worker end to end (consume, decide, COPY decisions + offsets + outbox) next to its raw baselines.
        .executableTarget(
            name: "WorkerBench",
            dependencies: [
                .product(name: "Messages", package: "MotCua"), .product(name: "EffectivelyOnce", package: "MotCua"), .product(name: "Store", package: "MotCua"), .product(name: "Services", package: "MotCua"), .product(name: "Audit", package: "MotCua"), .product(name: "Simulation", package: "MotCua"), .product(name: "Kafka", package: "MotCua"),
                .product(name: "Postgres", package: "MotCua"), .product(name: "Authority", package: "MotCua"),
                "CWorkerRaw", "BenchSupport",
            ]
        ),
        .target(name: "CWorkerRaw", linkerSettings: [.linkedLibrary("pq")]),
        // Reception's writer alone (no Kafka): dossiers/s and its CPU beside its PostgreSQL backend's, per dossier.
        .executableTarget(
            name: "ReceptionBench",
            dependencies: [
                .product(name: "Authority", package: "MotCua"), .product(name: "Messages", package: "MotCua"),
                .product(name: "Services", package: "MotCua"), .product(name: "Simulation", package: "MotCua"),
                .product(name: "Kafka", package: "MotCua"), .product(name: "Postgres", package: "MotCua"),
                .product(name: "EffectivelyOnce", package: "MotCua"), "BenchSupport",
            ]
        ),
        // The status projection by sets on its own (no Kafka): events/s, its CPU and its backend's per event.
        .executableTarget(
            name: "ProjectionBench",
            dependencies: [
                .product(name: "Authority", package: "MotCua"), .product(name: "Messages", package: "MotCua"),
                .product(name: "Services", package: "MotCua"), .product(name: "Store", package: "MotCua"),
                .product(name: "Kafka", package: "MotCua"),
                .product(name: "Postgres", package: "MotCua"), .product(name: "EffectivelyOnce", package: "MotCua"),
                "BenchSupport", "CProjectionRaw",
            ]
        ),
        // The projection's recorded calls replayed through raw libpq: its same-run C baseline.
        .target(name: "CProjectionRaw", linkerSettings: [.linkedLibrary("pq")]),
    ],
    swiftLanguageModes: [.v6]
)
