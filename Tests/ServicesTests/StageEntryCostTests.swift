import Authority
import Foundation
import Kafka
import Messages
import Postgres
@testable import Services
import Store
import TestSupport
import Testing

extension StagedBatchTests {
    /// The worker's cost of entering stages (issue 20) in batches whose decisions are prepared for officials: the
    /// same batches written by the worker with culture's workflow and by the same worker without one (as before
    /// stages), alternately, in the same run. A measurement (BENCHMARKS.md, "Stage entry"); it fails only when the
    /// workflow's batches enter no stage or the others do.
    @Test("the worker's batches with prepared decisions, with stage entry and without, alternately in the same run")
    mutating func stageEntryCost() throws {
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let without = try DepartmentWorker(
            department: "culture", bundle: bundle.replacingWorkflows([:]), clock: SystemClock(),
            logger: TestEnvironment.logger)
        let size = Int(ProcessInfo.processInfo.environment["STAGE_ENTRY_BATCH"] ?? "") ?? 500
        let rounds = Int(ProcessInfo.processInfo.environment["STAGE_ENTRY_ROUNDS"] ?? "") ?? 5
        var timings: [Bool: [Double]] = [true: [], false: []]
        for round in 0..<(2 * rounds) {
            let withStages = round % 2 == 0
            let batch = try karaokeSteps(size)
            let ids = try batch.map { try #require(String(validating: $0.key ?? [], as: UTF8.self)) }
            let writer = withStages ? worker : without
            let start = ContinuousClock.now
            _ = try database.connection.transaction { tx in try writer.write(batch, staged: nil, into: tx) }
            let elapsed = ContinuousClock.now - start
            timings[withStages]!.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
            let prepared = try database.connection.query(
                """
                SELECT count(*) AS n FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official'
                  AND outcome IN ('approve', 'refuse')
                """, [ids])[0].decode(Int.self, "n")
            let entered = try database.connection.query(
                "SELECT count(*) AS n FROM stages WHERE dossier_id = ANY($1::text[])", [ids])[0].decode(Int.self, "n")
            #expect(prepared > 0, "the batch prepares decisions for officials")
            #expect(entered == (withStages ? prepared : 0), "round \(round): \(entered) of \(prepared) entered")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let a = median(timings[true]!), b = median(timings[false]!)
        print(String(
            format: "stage entry cost: batch %d, %d rounds each: with stages %.1f ms (%@), without %.1f ms (%@), ratio %.2f",
            size, rounds, a, timings[true]!.map { String(format: "%.0f", $0) }.joined(separator: ", "), b,
            timings[false]!.map { String(format: "%.0f", $0) }.joined(separator: ", "), a / b))
    }
}
