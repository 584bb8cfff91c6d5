import Authority
import Foundation

extension Scorecard {
    /// The six groups of Decision 766/QĐ-TTg, with their maximum points (100 in all).
    package enum Group: String, Sendable, Hashable, CaseIterable, Codable {
        case transparency
        case progress
        case digitisation
        case onlineService = "online-service"
        case onlinePayment = "online-payment"
        case satisfaction

        package var maxPoints: Double {
            switch self {
            case .transparency: 18
            case .progress: 20
            case .digitisation: 22
            case .onlineService: 12
            case .onlinePayment: 10
            case .satisfaction: 18
            }
        }

        package var title: String {
            switch self {
            case .transparency: "Publicity and transparency"
            case .progress: "Progress of processing"
            case .digitisation: "Digitisation of dossiers and results"
            case .onlineService: "Online public service"
            case .onlinePayment: "Online payment"
            case .satisfaction: "Satisfaction in handling"
            }
        }
    }

    /// One indicator of one unit: computed from MotCua's data (numerator, denominator, rate, points), without
    /// dossiers in the period (no rate, no points), or not computable (MotCua lacks the data; `reason` says which).
    package struct Indicator: Sendable, Hashable, Codable {
        package enum Status: String, Sendable, Hashable, Codable {
            case computed
            case noDossiers = "no-dossiers"
            case notComputable = "not-computable"
        }

        package var group: Group
        package var title: String
        package var maxPoints: Double
        package var status: Status
        package var numerator: Int?
        package var denominator: Int?
        package var rate: Double?
        package var points: Double?
        package var reason: String?

        /// Points = maximum × rate (the rule of Decision 766 where it gives no other).
        package static func ratio(_ group: Group, _ numerator: Int, _ denominator: Int) -> Indicator {
            guard denominator > 0 else {
                return Indicator(
                    group: group, title: group.title, maxPoints: group.maxPoints, status: .noDossiers,
                    numerator: numerator, denominator: denominator, reason: "no dossiers in the period")
            }
            let rate = Double(numerator) / Double(denominator)
            return Indicator(
                group: group, title: group.title, maxPoints: group.maxPoints, status: .computed, numerator: numerator,
                denominator: denominator, rate: rate, points: group.maxPoints * rate)
        }

        /// Satisfaction in handling: 100% − (late rate + complaint rate) over the progress indicator's dossiers (late
        /// = counted and neither finished on time nor in progress within the deadline; complaint rate = those with a
        /// complaint or a dissatisfied rating, each once), full marks at 90%: points = 18 × min(1, rate ÷ 0.9), and
        /// none below 0. The numerator is the dossiers neither late nor dissatisfied, counted as "not late" + "not
        /// dissatisfied" − counted (the rate's own arithmetic).
        package static func satisfaction(_ d: ProgressDetail) -> Indicator {
            guard d.counted > 0 else {
                return Indicator(
                    group: .satisfaction, title: Group.satisfaction.title, maxPoints: Group.satisfaction.maxPoints,
                    status: .noDossiers, numerator: 0, denominator: 0, reason: "no dossiers in the period")
            }
            let late = d.counted - d.finishedOnTime - d.inProgressWithinDeadline
            let numerator = d.counted - late - d.dissatisfied
            let rate = Double(numerator) / Double(d.counted)
            let points = Group.satisfaction.maxPoints * min(1, max(0, rate) / 0.9)
            return Indicator(
                group: .satisfaction, title: Group.satisfaction.title, maxPoints: Group.satisfaction.maxPoints,
                status: .computed, numerator: numerator, denominator: d.counted, rate: rate, points: points,
                reason: "100% − late \(late) − with a complaint or rated dissatisfied \(d.dissatisfied) (complaints "
                    + "\(d.withComplaints), rated ≤ \(Scorecard.dissatisfiedAtMost) of 5 \(d.ratedDissatisfied)), of "
                    + "\(d.counted); full marks at 90%")
        }

        package static func notComputable(_ group: Group, _ reason: String) -> Indicator {
            Indicator(
                group: group, title: group.title, maxPoints: group.maxPoints, status: .notComputable, reason: reason)
        }
    }

    /// The scorecard of one department (or `city` for all of them).
    package struct Card: Sendable, Hashable, Codable {
        package var unit: String
        /// In the order of ``Group/allCases``.
        package var indicators: [Indicator]
        /// Points of the computed indicators, and the maximum of those indicators (not of 100).
        package var points: Double
        package var computedMaxPoints: Double
        package var progressDetail: ProgressDetail
        /// Dossiers received in the period that the national portal acknowledged (accepted a record of), of all
        /// received: reported without points (it is one part of the transparency group, whose weighting of its
        /// parts MotCua does not know).
        package var syncedToPortal: Measure
        /// The fees paid in the period (nil when the payments were not read).
        package var feesCollected: Fees?
        /// Digitisation's electronic-results part: approvals with a result file of all approvals in the period,
        /// reported without points (the group's other parts are not computable; nil when not read).
        package var electronicResults: Measure?
        /// The applicants' ratings in the period (nil when not read), beside the satisfaction indicator.
        package var ratings: Ratings?
        /// Digitisation's reception part: dossiers received in the period whose documents were digitised at
        /// reception (the intake's `digitised`) of all received, reported without points like the electronic-results
        /// part; `digitisedNotSaid` of them came without the field (counted as received, not as digitised).
        package var digitisedAtReception = Measure(0, 0)
        package var digitisedNotSaid = 0
    }

    /// A rate reported without points.
    package struct Measure: Sendable, Hashable, Codable {
        package var numerator: Int
        package var denominator: Int
        /// Nil without dossiers.
        package var rate: Double?

        package init(_ numerator: Int, _ denominator: Int) {
            self.numerator = numerator
            self.denominator = denominator
            rate = denominator > 0 ? Double(numerator) / Double(denominator) : nil
        }
    }

    /// The parts of the progress indicator, as counted.
    package struct ProgressDetail: Sendable, Hashable, Codable {
        package var counted = 0
        package var finished = 0
        package var finishedOnTime = 0
        package var inProgressWithinDeadline = 0
        package var lateBySupplements = 0
        package var withComplaints = 0
        package var ratedDissatisfied = 0
        /// With a complaint or a dissatisfied rating, each dossier once (the satisfaction indicator's term).
        package var dissatisfied = 0

        package init() {}

        mutating func add(_ row: Progress) {
            counted += row.counted
            finished += row.finished
            finishedOnTime += row.finishedOnTime
            inProgressWithinDeadline += row.inProgressWithinDeadline
            lateBySupplements += row.lateBySupplements
            withComplaints += row.withComplaints
            ratedDissatisfied += row.ratedDissatisfied
            dissatisfied += row.dissatisfied
        }

        mutating func add(_ other: ProgressDetail) {
            counted += other.counted
            finished += other.finished
            finishedOnTime += other.finishedOnTime
            inProgressWithinDeadline += other.inProgressWithinDeadline
            lateBySupplements += other.lateBySupplements
            withComplaints += other.withComplaints
            ratedDissatisfied += other.ratedDissatisfied
            dissatisfied += other.dissatisfied
        }
    }

    /// Why the indicators MotCua has no data for cannot be computed.
    package static let missingData: [Group: String] = [
        .transparency: "publication of procedures and of dossier progress on the portal is not recorded in MotCua",
        .digitisation: "of its parts MotCua records electronic result files and dossiers digitised at reception (reported without points as electronic-results and digitised-at-reception); the reuse of digitised components and the group's weighting of its parts are not known",
        .onlinePayment: "the payments were not read for this view",
        .satisfaction: "the complaints and ratings were not read for this view (the late rate alone is not the indicator)",
    ]

    /// Cards per department (catalogue order, then any unknown procedure's `unknown`) and for the City (last).
    /// Without `payments` (nil: not read), online payment is listed as not computable.
    package static func cards(
        progress: [Progress], received: [Received], payments: (dossiers: [FeeDossiers], collected: [Collected])? = nil,
        resultFiles: [ResultFiles]? = nil, complaintsRead: Bool = false, ratings: [String: Ratings]? = nil,
        catalogue: Catalogue
    ) -> [Card] {
        let rated = ratings.map { ratingsByUnit($0, catalogue: catalogue) }
        let results = resultFiles.map { electronicResults($0, catalogue: catalogue) }
        let paid = payments.map { onlinePayment($0.dossiers, catalogue: catalogue) }
        let fees = payments.map { self.fees($0.collected, catalogue: catalogue) }
        var detail: [String: ProgressDetail] = [:]
        var online: [String: (full: Int, fullOnline: Int)] = [:]
        var sync: [String: (received: Int, synced: Int)] = [:]
        var digitised: [String: (yes: Int, notSaid: Int)] = [:]
        for row in received {
            let d = catalogue.procedure(row.procedure)?.department.rawValue ?? "unknown"
            sync[d] = (received: (sync[d]?.received ?? 0) + row.count, synced: (sync[d]?.synced ?? 0) + row.synced)
            digitised[d] = (yes: (digitised[d]?.yes ?? 0) + row.digitised,
                            notSaid: (digitised[d]?.notSaid ?? 0) + row.digitisedNotSaid)
        }
        func department(_ procedure: String) -> String { catalogue.procedure(procedure)?.department.rawValue ?? "unknown" }
        for row in progress {
            detail[department(row.procedure), default: ProgressDetail()].add(row)
        }
        for row in received where catalogue.procedure(row.procedure)?.onlineLevel == .full {
            var o = online[department(row.procedure)] ?? (0, 0)
            o.full += row.count
            if row.channel == .online { o.fullOnline += row.count }
            online[department(row.procedure)] = o
        }
        let order = catalogue.departments.map(\.id).filter { $0 != Catalogue.delegatorId }.map(\.rawValue)
        let extra = Set(detail.keys).union(online.keys).union(sync.keys).subtracting(order).sorted()
        func card(
            _ unit: String, _ d: ProgressDetail, _ o: (full: Int, fullOnline: Int), _ s: (received: Int, synced: Int)
        ) -> Card {
            let indicators = Group.allCases.map { group -> Indicator in
                switch group {
                case .progress: .ratio(.progress, d.finishedOnTime + d.inProgressWithinDeadline, d.counted)
                case .onlineService: .ratio(.onlineService, o.fullOnline, o.full)
                case .satisfaction where complaintsRead: .satisfaction(d)
                case .onlinePayment where paid != nil:
                    .ratio(.onlinePayment, paid?[unit]?.paid ?? 0, paid?[unit]?.owing ?? 0)
                default: .notComputable(group, missingData[group] ?? "no data")
                }
            }
            let computed = indicators.filter { $0.status == .computed }
            let scanned = unit == "city"
                ? digitised.values.reduce((yes: 0, notSaid: 0)) { ($0.yes + $1.yes, $0.notSaid + $1.notSaid) }
                : digitised[unit] ?? (0, 0)
            return Card(
                unit: unit, indicators: indicators, points: computed.compactMap(\.points).reduce(0, +),
                computedMaxPoints: computed.map(\.maxPoints).reduce(0, +), progressDetail: d,
                syncedToPortal: Measure(s.synced, s.received),
                feesCollected: fees.map { $0[unit] ?? Fees() },
                electronicResults: results.map { Measure($0[unit]?.file ?? 0, $0[unit]?.completed ?? 0) },
                ratings: rated.map { $0[unit] ?? Ratings() }, digitisedAtReception: Measure(scanned.yes, s.received),
                digitisedNotSaid: scanned.notSaid)
        }
        var cards = (order + extra).map {
            card($0, detail[$0] ?? ProgressDetail(), online[$0] ?? (0, 0), sync[$0] ?? (0, 0))
        }
        var city = ProgressDetail()
        for d in detail.values { city.add(d) }
        let cityOnline = online.values.reduce((full: 0, fullOnline: 0)) { ($0.full + $1.full, $0.fullOnline + $1.fullOnline) }
        let citySync = sync.values.reduce((received: 0, synced: 0)) { ($0.received + $1.received, $0.synced + $1.synced) }
        cards.append(card("city", city, cityOnline, citySync))
        return cards
    }
}
