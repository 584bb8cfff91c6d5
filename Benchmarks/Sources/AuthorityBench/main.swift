// Release-mode benchmark of the Authority hot paths: rule evaluation (20-rule table, delegation check and
// required documents included) and due-date computation. One thread; median of several runs.
import BenchSupport
import Authority
import Foundation

let environment = ProcessInfo.processInfo.environment
/// `AUTHORITY_BENCH_RUNS` and `AUTHORITY_BENCH_DIVISOR` shrink a run for profiling (valgrind --tool=callgrind).
let runs = environment["AUTHORITY_BENCH_RUNS"].flatMap { Int($0) } ?? 7
let divisor = max(environment["AUTHORITY_BENCH_DIVISOR"].flatMap { Int($0) } ?? 1, 1)
let only = CommandLine.arguments.dropFirst().first

/// CPU time of the calling thread: on a shared machine wall time also counts other processes' turns.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func measure(_ name: String, operations: Int, _ body: () -> Int) {
    if let only, only != name { return }
    var cpuRates: [Double] = []
    var wallRates: [Double] = []
    var sink = 0
    sink &+= body()  // warm-up
    for _ in 0..<runs {
        let cpuStart = threadCPUSeconds()
        let start = ContinuousClock.now
        sink &+= body()
        let elapsed = ContinuousClock.now - start
        let cpu = threadCPUSeconds() - cpuStart
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        cpuRates.append(Double(operations) / cpu)
        wallRates.append(Double(operations) / wall)
    }
    cpuRates.sort()
    wallRates.sort()
    print(
        "\(name): \(Int(cpuRates[runs / 2])) /s (median of \(runs), per thread CPU second; wall clock: "
            + "\(Int(wallRates[runs / 2])) /s)")
    if sink == 42 { print("") }
}

// MARK: - Rule evaluation

var ruleLines = ["department: industrial-zones", "hitPolicy: first", "rules:"]
for i in 0..<19 {
    let condition: String
    switch i % 5 {
    case 0: condition = "{ field: facts.workers\(i), gt: \(1000 + i) }"
    case 1:
        condition = "{ all: [ { field: facts.capitalVnd, gt: \(100_000_000_000 + i) }, { field: channel, eq: post } ] }"
    case 2: condition = "{ field: facts.sector, in: [mining\(i), chemicals\(i), explosives\(i)] }"
    case 3:
        condition =
            "{ any: [ { field: facts.foreignOwnershipPct, gte: \(100 + i) }, { field: commune, eq: \"9\(1000 + i)\" } ] }"
    default:
        condition =
            "{ all: [ { not: { field: facts.fireSafetyValid, eq: true } }, { field: facts.workers0, gte: \(i) } ] }"
    }
    let outcome = i % 3 == 0 ? "refuse" : "escalate"
    ruleLines.append(
        """
          - id: r\(i)
            when: \(condition)
            outcome: \(outcome)
            review: official
            legalBasis: "Nghị định 35/2022/NĐ-CP"
            reason: "rule \(i)"
        """)
}
ruleLines.append(
    """
      - id: r-default
        when: { always: true }
        outcome: approve
        review: auto
        legalBasis: "Nghị định 35/2022/NĐ-CP"
    """)
let ruleSet = try RuleSet(yaml: ruleLines.joined(separator: "\n"))
precondition(ruleSet.rules.count == 20)

let catalogue = Catalogue(
    departments: [
        Department(id: "city", name: "UBND", gloss: "City", agencyCode: "UB", head: "chu-tich"),
        Department(
            id: "industrial-zones", name: "Ban quản lý", gloss: "IZ board", agencyCode: "KCN", head: "truong-ban"),
    ],
    documentTypes: [
        DocumentType(id: "application-form", name: "Đơn", gloss: "Application form"),
        DocumentType(id: "passport", name: "Hộ chiếu", gloss: "Passport"),
    ],
    procedures: [
        Procedure(
            code: "1.009997", name: "Cấp giấy phép lao động", gloss: "Work permit", department: "industrial-zones",
            timeLimit: TimeLimit(value: 10, unit: .workingDays), onlineLevel: .full, legalBasis: ["NĐ 152/2020"],
            documents: ["application-form", "passport"])
    ])
let delegation = try Delegation(
    snapshotJSON: """
        {"conditions":{"all":[{"field":"facts.capitalVnd","lte":500000000000}]},"delegatee":"industrial-zones",\
        "delegator":"city","id":"uq-kcn-2024-01","instrument":{"date":"2024-01-05","number":"15/QĐ-UBND",\
        "signer":"Chủ tịch UBND Thành phố"},"mode":"delegation","scope":{"procedures":["1.009997"],\
        "territory":["*"]},"validFrom":"2024-01-15","validTo":"2027-12-31"}
        """)
let registry = DelegationRegistry(records: [delegation])
let instant = ISO8601Instant.parse("2026-11-27T10:00:00+07:00")!

var dossiers: [Dossier] = []
for i in 0..<1024 {
    var facts: [String: FactValue] = [
        "capitalVnd": .integer(Int64(1_000_000_000 + i * 1_000_000)),
        "sector": .string(["textiles", "electronics", "mining3", "food"][i % 4]),
        "foreignOwnershipPct": .number(Double(i % 100)),
        "fireSafetyValid": .bool(i % 97 != 0),
    ]
    for w in stride(from: 0, to: 19, by: 5) { facts["workers\(w)"] = .integer(Int64(i % 1200)) }
    dossiers.append(
        Dossier(
            id: "4b3f2a5e-6c1d-4e8f-9a0b-\(String(format: "%012d", i))", procedure: "1.009997",
            submittedAt: instant, channel: i % 11 == 0 ? .post : .online, commune: "0000\(i % 10)",
            applicant: .init(kind: .enterprise, id: "0101234567", name: "Công ty A"),
            documents: ["application-form", "passport"], facts: facts))
}
var histogram: [String: Int] = [:]
for d in dossiers {
    let e = ruleSet.evaluate(
        d, department: "industrial-zones", delegations: registry, catalogue: catalogue, at: instant)
    histogram[e.ruleId ?? e.outcome.rawValue, default: 0] += 1
}
let evaluations = 1_000_000 / divisor
/// The timed loop, on parameters: reading the dossiers, the rule set, the registry and the catalogue from this
/// file's globals inside the loop copied each dossier (every field retained and released) per evaluation, which
/// is no part of evaluating it (a worker passes the dossier it decoded). The outcome is folded cheaply (hashing it
/// cost ~300 instructions).
@inline(never)
func evaluateAll(
    _ inputs: [Dossier], count: Int, _ ruleSet: RuleSet, _ registry: DelegationRegistry,
    _ catalogue: Catalogue, at instant: Date
) -> Int {
    var acc = 0
    for i in 0..<count {
        let e = ruleSet.evaluate(
            inputs[i & (inputs.count - 1)], department: "industrial-zones", delegations: registry,
            catalogue: catalogue, at: instant)
        acc &+= (e.outcome == .approve ? 1 : 2) &+ (e.ruleId?.utf8.count ?? 0)
    }
    return acc
}
measure("rule-eval", operations: evaluations) {
    evaluateAll(dossiers, count: evaluations, ruleSet, registry, catalogue, at: instant)
}
let defaultShare = Double(histogram["r-default"] ?? 0) / Double(dossiers.count)
print("  (20 rules; \(Int(defaultShare * 100))% of dossiers reach the catch-all after 19 misses)")

// MARK: - Due dates

func year(_ y: Int, holidays: [(String, String)], saturdays: [(String, String)]) -> CalendarYear {
    CalendarYear(
        year: y, source: .init(notice: "bench", date: LocalDate("\(y - 1)-10-01")!, issuer: "Bộ Nội vụ"),
        holidays: holidays.map { .init(from: LocalDate($0.0)!, to: LocalDate($0.1)!, name: "h") },
        workingSaturdays: saturdays.map { .init(date: LocalDate($0.0)!, replaces: LocalDate($0.1)!) })
}
let calendar = WorkingCalendar(years: [
    year(
        2026,
        holidays: [
            ("2026-01-01", "2026-01-01"), ("2026-02-16", "2026-02-20"), ("2026-04-27", "2026-04-27"),
            ("2026-04-30", "2026-05-01"), ("2026-09-01", "2026-09-02"),
        ],
        saturdays: [("2026-01-10", "2026-01-02"), ("2026-08-22", "2026-08-31")]),
    year(2027, holidays: [("2027-01-01", "2027-01-01"), ("2027-02-05", "2027-02-11")], saturdays: []),
])
let base = ISO8601Instant.parse("2026-01-01T00:00:00+07:00")!.timeIntervalSince1970
let received = (0..<4096).map { Date(timeIntervalSince1970: base + Double(($0 &* 7919) % (330 * 86400))) }
let limits = [
    TimeLimit(value: 15, unit: .workingDays), TimeLimit(value: 30, unit: .days),
    TimeLimit(value: 10, unit: .workingDays), TimeLimit(value: 5, unit: .workingDays),
]
let computations = 10_000_000 / divisor
measure("due-date", operations: computations) {
    var acc = 0
    for i in 0..<computations {
        if let due = try? calendar.dueDate(receivedAt: received[i & 4095], limit: limits[i & 3]) {
            acc &+= Int(due.dayNumber)
        }
    }
    return acc
}
