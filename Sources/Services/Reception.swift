import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Postgres
import Store
import Synchronization

/// The batch writer of reception: checks each intake dossier, gives it a code and an appointment date, records it,
/// and routes it to the first department of its procedure.
///
/// The same dossier id is received once: a repeat within a batch or of an earlier batch is skipped.
public final class Reception: BatchWriter {
    public let bundle: AuthorityBundle
    let topics: Topics
    /// What is accepted at the edge.
    public let limits: IntakeLimits
    let clock: any MotCuaClock
    let logger: Logger
    public var outboxSource: String { "reception" }
    /// Whether `bundle.catalogueVersion` is known to be stored in `catalogue_versions` (committed): until then each
    /// batch that receives a dossier checks, and stores it in its own transaction when missing.
    let catalogueVersionStored = Atomic<Bool>(false)

    public init(
        bundle: AuthorityBundle, clock: any MotCuaClock, topics: Topics = Topics(), limits: IntakeLimits = IntakeLimits(),
        logger: Logger
    ) {
        self.topics = topics
        self.limits = limits
        self.bundle = bundle
        self.clock = clock
        self.logger = logger
    }

    public func prepare(_ connection: PostgresConnection) throws {
        try DatabaseSchema.checkTopicPrefix(topics.prefix, on: connection)
    }

    struct Received {
        var message: KafkaMessage
        var dossier: Dossier
        var status: DossierEvent.Kind
        var agency: String
        var department: DepartmentID?
        var procedure: Procedure?
        var missing: [String]
        var dueDate: LocalDate?
        var stepDue: LocalDate?
        var code = ""
        /// Why an `intake-refused` dossier was refused (nil: an unknown procedure code).
        var reason: String?
    }

    public func write(_ messages: [KafkaMessage], into tx: PostgresConnection) throws -> BatchReport {
        var report = BatchReport()
        var outbox: [OutboxMessage] = []
        let now = clock.now()
        var seen = Set<String>()
        var accepted: [Received] = []
        var contacts: [String: Dossier.Contact] = [:]
        for message in messages {
            func deadLetter(_ reason: String) {
                outbox.append(.deadLetter(
                    of: message, error: reason, consumer: "reception", keepingAtMost: limits.maximumBytes))
                report.deadLetters += 1
            }
            // The intake carries intake dossiers only; producers may omit the header (the intake contract).
            if let type = CloudEvents.type(of: message), type != MessageType.intake {
                deadLetter(
                    "not an intake dossier: ce_type '\(type.prefix(100))' (the intake takes \(MessageType.intake), or no "
                        + "ce_type); commands go to the department topics")
                continue
            }
            guard message.value.count <= limits.maximumBytes else {
                deadLetter(
                    "invalid intake dossier: \(message.value.count) bytes, more than the \(limits.maximumBytes) allowed; "
                        + "send the documents' ids, not their contents")
                continue
            }
            var dossier: Dossier
            do {
                if let problem = StrictJSON.problem(in: message.value) { throw problem }
                dossier = try MessageCoding.decodeIntakeDossier(message.value)
                if let problem = limits.problem(with: dossier, at: now) { throw problem }
                if let problem = bundle.catalogue.communes.problem(with: dossier.commune) {
                    throw IntakeError(field: "commune", problem: problem)
                }
            } catch {
                deadLetter("invalid intake dossier: \(error)")
                continue
            }
            guard seen.insert(dossier.id).inserted else {
                report.skippedDuplicates += 1
                continue
            }
            // The applicant's contact is stored apart and leaves the dossier here: never in its body, never on a
            // topic (issue 21).
            if let contact = dossier.contact {
                contacts[dossier.id] = contact
                dossier.contact = nil
            }
            accepted.append(classify(dossier, message: message, at: now))
        }
        if !accepted.isEmpty {
            let known = try ReceptionStore.known(accepted.map(\.dossier.id), in: tx)
            report.skippedDuplicates += accepted.count(where: { known.contains($0.dossier.id) })
            accepted.removeAll { known.contains($0.dossier.id) }
        }
        try assignCodes(&accepted, at: now, in: tx)
        if !accepted.isEmpty && !catalogueVersionStored.load(ordering: .relaxed) {
            if try CatalogueVersionStore.isStored(bundle.catalogueVersion.version, on: tx) {
                catalogueVersionStored.store(true, ordering: .relaxed)
            } else {
                try CatalogueVersionStore.store(bundle.catalogueVersion, in: tx)
            }
        }
        let encoder = MessageCoding.encoder()
        try ReceptionStore.insert(try accepted.map { item in
            var row = ReceptionStore.Row(
                id: item.dossier.id, code: item.code, procedure: item.dossier.procedure,
                channel: item.dossier.channel.rawValue, commune: item.dossier.commune,
                applicantKind: item.dossier.applicant.kind.rawValue, submittedAt: item.dossier.submittedAt,
                receivedAt: now, status: item.status.rawValue, department: item.department,
                dueDate: item.dueDate?.description,
                body: contacts[item.dossier.id] == nil
                    ? String(decoding: item.message.value, as: UTF8.self)
                    : String(decoding: try encoder.encode(item.dossier), as: UTF8.self),
                bodySha256: try MessageCoding.digest(of: item.dossier, encoder: encoder),
                receiptSecretSha256: item.dossier.receiptSecretSha256.flatMap(Reception.bytes(hex:)),
                catalogueVersion: bundle.catalogueVersion.version)
            row.digitised = item.dossier.digitised
            row.vneidVerified = item.dossier.vneidVerified
            return row
        }, in: tx)
        if !contacts.isEmpty {
            try ReceptionStore.insertContacts(
                accepted.compactMap { item in
                    contacts[item.dossier.id].map { (item.dossier.id, $0.channel.rawValue, $0.address) }
                }, at: now, in: tx)
        }
        for item in accepted {
            outbox += try effects(of: item, at: now, encoder: encoder)
            report.outcomes[item.status.rawValue, default: 0] += 1
            report.processed += 1
        }
        try OutboxWriter.write(outbox, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        return report
    }

    func classify(_ dossier: Dossier, message: KafkaMessage, at now: Date) -> Received {
        let cityAgency = bundle.catalogue.department(Catalogue.delegatorId)?.agencyCode ?? "UB"
        guard let procedure = bundle.catalogue.procedure(dossier.procedure), let first = procedure.steps.first else {
            return Received(message: message, dossier: dossier, status: .intakeRefused, agency: cityAgency,
                            department: nil, procedure: nil, missing: [])
        }
        let agency = bundle.catalogue.department(first.department)?.agencyCode ?? cityAgency
        if let reason = Reception.movedAway(procedure, receivedOn: LocalDate(instant: now)) {
            return Received(message: message, dossier: dossier, status: .intakeRefused, agency: agency,
                            department: nil, procedure: procedure, missing: [], reason: reason)
        }
        let missing = procedure.documents.filter { !dossier.documents.contains($0) }
        guard missing.isEmpty else {
            return Received(message: message, dossier: dossier, status: .intakeIncomplete, agency: agency,
                            department: nil, procedure: procedure, missing: missing)
        }
        let due = try? bundle.calendar.dueDate(receivedAt: now, limit: procedure.timeLimit)
        let stepDue = try? bundle.calendar.dueDate(receivedAt: now, limit: first.timeLimit)
        if due == nil {
            logger.warning("no working-day calendar for the receipt date; dossier received without a due date")
        }
        return Received(message: message, dossier: dossier, status: .received, agency: agency,
                        department: first.department, procedure: procedure, missing: [], dueDate: due, stepDue: stepDue)
    }

    /// Why a dossier of `procedure` received on `day` is not the department's to decide: the procedure moved (to
    /// the commune level, or merged into another) on or before that day. Nil when it is still the department's.
    public static func movedAway(_ procedure: Procedure, receivedOn day: LocalDate) -> String? {
        guard let moved = procedure.moved, moved.on <= day.description else { return nil }
        return "procedure \(procedure.code) is no longer decided by \(procedure.department): it moved on \(moved.on) to "
            + "\(moved.to.isEmpty ? "another authority" : moved.to); submit the dossier there"
    }

    /// Codes are `AGENCY-yymmdd-NNNNNN`, numbered per agency and local day.
    func assignCodes(_ items: inout [Received], at now: Date, in tx: PostgresConnection) throws {
        let day = Reception.localDay(now)
        let counts = Dictionary(grouping: items.indices, by: { items[$0].agency })
        // One statement for all the batch's agencies (it was one per agency).
        let last = try ReceptionStore.reserveCodes(counts.mapValues(\.count), day: day.iso, in: tx)
        for (agency, indices) in counts {
            var number = (last[agency] ?? indices.count) - indices.count
            for index in indices {
                number += 1
                let padded = String(number)
                items[index].code = "\(agency)-\(day.compact)-" + String(repeating: "0", count: max(0, 6 - padded.count)) + padded
            }
        }
    }

    func effects(of item: Received, at now: Date, encoder: JSONEncoder) throws -> [OutboxMessage] {
        let dossier = item.dossier
        func event(_ kind: DossierEvent.Kind, _ data: DossierEvent.Data) throws -> OutboxMessage {
            let event = DossierEvent(
                eventId: StableID.make("event", kind.rawValue, dossier.id), dossierId: dossier.id, code: item.code,
                type: kind, department: item.department, step: item.department == nil ? nil : 0, round: nil, at: now,
                data: data)
            return OutboxMessage(eventId: event.eventId, topic: topics.events, key: dossier.id, type: MessageType.event,
                                 payload: MessageCoding.encode(event))
        }
        var common = DossierEvent.Data(procedure: dossier.procedure, channel: dossier.channel.rawValue, commune: dossier.commune)
        switch item.status {
        case .intakeRefused:
            common.reason = item.reason ?? "unknown procedure code '\(dossier.procedure)'"
            return [try event(.intakeRefused, common)]
        case .intakeIncomplete:
            common.documents = item.missing
            common.reason = "missing required documents"
            return [try event(.intakeIncomplete, common)]
        default:
            guard let department = item.department else { return [] }
            common.dueDate = item.dueDate?.description
            common.timeLimit = item.procedure?.timeLimit.description
            var assigned = common
            assigned.dueDate = item.stepDue?.description
            let task = StepTask(
                taskId: StableID.make("step", dossier.id, "0", "0"), dossier: dossier, code: item.code, step: 0,
                round: 0, department: department, receivedAt: now, dueDate: item.stepDue?.description,
                catalogueVersion: bundle.catalogueVersion.version)
            return [
                try event(.received, common),
                try event(.assigned, assigned),
                OutboxMessage(eventId: task.taskId, topic: topics.department(department), key: dossier.id,
                              type: MessageType.step, payload: try MessageCoding.encode(task, encoder: encoder)),
            ]
        }
    }

    /// The bytes of lowercase hexadecimal digits (a checked `receiptSecretSha256`).
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// The local day (Asia/Ho_Chi_Minh) of an instant, as `YYYY-MM-DD` and as `yymmdd` for codes.
    static func localDay(_ instant: Date) -> (iso: String, compact: String) {
        let iso = LocalDate(instant: instant).description
        return (iso, String(iso.dropFirst(2).filter { $0 != "-" }))
    }
}
