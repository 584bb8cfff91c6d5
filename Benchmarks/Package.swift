// swift-tools-version:6.1
// Release-mode benchmark executables, kept out of the main package so that its build stays fast.
// Run them through ./tools/bench, which also measures the raw baselines in the same run.
import Foundation
import PackageDescription

/// The `-package-name` SwiftPM gives MotCua's modules: its identity (the name of the directory holding it, lowercased)
/// as a C99 identifier. ProjectionBench compiles with it to reach the Store's `package` statements.
let motcuaPackageName = String(
    URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()
        .map { $0.isLetter || $0.isNumber ? $0 : "_" })

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
        // The status projection by sets against the per-event reference (a test-only file, linked in; it uses the
        // Store's package-level statements, so this target is compiled as part of MotCua's package: see below).
        .executableTarget(
            name: "ProjectionBench",
            dependencies: [
                .product(name: "Authority", package: "MotCua"), .product(name: "Messages", package: "MotCua"),
                .product(name: "Services", package: "MotCua"), .product(name: "Store", package: "MotCua"),
                .product(name: "Kafka", package: "MotCua"),
                .product(name: "Postgres", package: "MotCua"), .product(name: "EffectivelyOnce", package: "MotCua"),
                "BenchSupport",
            ],
            swiftSettings: [.unsafeFlags(["-package-name", motcuaPackageName])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
