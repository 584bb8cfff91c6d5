import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Store

/// The national portal records of a batch of dossier events: one ``PortalRecord`` on `portal.sync` per change of
/// a dossier's national status code (an event that leaves the code as it was produces none), in event order.
///
/// Kept apart from ``StatusProjection``'s per-event work on purpose: the projection calls ``records(for:in:)`` once
/// per batch, after applying the batch, so it reads the projected rows in two set-based statements and can be
/// rewritten (set-based batches) without touching this.
public struct PortalSync: Sendable {
    public let topics: Topics
    public let catalogue: Catalogue?

    /// `catalogue` gives the agency code of the department holding a dossier (nil: no agency field).
    public init(topics: Topics, catalogue: Catalogue?) {
        self.topics = topics
        self.catalogue = catalogue
    }

    /// The records of `events` (applied in this transaction, in order), stored in `portal_sync_records` and
    /// returned as outbox messages.
    public func records(
        for events: [DossierEvent], in tx: PostgresConnection, encoder: JSONEncoder
    ) throws -> [OutboxMessage] {
        let changing = events.filter { PortalStatus($0.type) != nil }
        guard !changing.isEmpty else { return [] }
        let ids = Array(Set(changing.map(\.dossierId)))
        var last = try PortalStore.lastCodes(ids, in: tx)
        let context = try PortalStore.context(ids, in: tx)
        var rows: [PortalStore.Record] = []
        var out: [OutboxMessage] = []
        for event in changing {
            guard let status = PortalStatus(event.type), last[event.dossierId] != status.rawValue else { continue }
            last[event.dossierId] = status.rawValue
            let c = context[event.dossierId]
            let recordId = StableID.make("portal", event.eventId.uuidString)
            let finished = status == .decided || status == .resultReturned
            let department = c?.department.map(DepartmentID.init(rawValue:)) ?? event.department
            // The published code when the catalogue knows it (the internal one is the City's identifier).
            let procedure = (c?.procedure ?? event.data.procedure).map { catalogue?.procedure($0)?.nationalCode ?? $0 }
            // A stop notice ends processing as a decision does (the 766 progress rule ends a stopped dossier there).
            let finishedAt = finished ? c?.decidedAt : status == .stopped ? event.at : nil
            let record = PortalRecord(
                recordId: recordId, dossierId: event.dossierId, code: c?.code ?? event.code,
                procedure: procedure,
                agency: department.flatMap { catalogue?.department($0)?.agencyCode },
                statusCode: status, channel: (c?.channel ?? event.data.channel).flatMap(PortalChannel.init(intake:)),
                statusAt: event.at, receivedAt: c?.receivedAt, appointmentDate: c?.dueDate ?? event.data.dueDate,
                finishedAt: finishedAt, outcome: finished ? c?.outcome : nil,
                returnedAt: status == .resultReturned ? event.at : nil,
                fee: event.data.amount ?? c?.feePaid,
                paidOnline: c?.paymentChannel.flatMap(PaymentConfirmation.Channel.init(rawValue:))?.portalCode,
                resultDocument: finished ? c?.resultDocument : nil, resultLink: finished ? c?.resultLink : nil,
                digitised: c?.digitised, vneidVerified: c?.vneidVerified)
            rows.append(
                PortalStore.Record(
                    recordId: recordId, dossierId: event.dossierId, statusCode: status.rawValue, statusAt: event.at))
            out.append(
                OutboxMessage(
                    eventId: recordId, topic: topics.portalSync, key: event.dossierId, type: MessageType.portalRecord,
                    payload: Array(try encoder.encode(record))))
        }
        try PortalStore.insert(rows, in: tx)
        return out
    }
}

/// The batch writer over `portal.sync.ack`: records the gateway's acknowledgements. An acknowledgement that is not
/// strict JSON, or names a record MotCua did not produce (or another dossier or status code than the record's), is
/// refused: a dead letter with the reason, and nothing recorded.
public final class PortalAckRecorder: BatchWriter {
    public static let consumerName = "motcua.coordinator.portal"
    /// Its own outbox shard (only dead letters): the projection's relay publishes `coordinator`.
    public var outboxSource: String { "coordinator-portal" }

    public init() {}

    public func prepare(_ connection: PostgresConnection) throws {}

    public func write(_ messages: [KafkaMessage], into tx: PostgresConnection) throws -> BatchReport {
        var report = BatchReport()
        var outbox: [OutboxMessage] = []
        var decoded: [(KafkaMessage, PortalAck)] = []
        let decoder = MessageCoding.decoder()
        for message in messages {
            do {
                if let problem = StrictJSON.problem(in: message.value) { throw problem }
                decoded.append((message, try decoder.decode(PortalAck.self, from: Data(message.value))))
            } catch {
                outbox.append(
                    .deadLetter(of: message, error: "not a portal acknowledgement: \(error)", consumer: Self.consumerName))
                report.deadLetters += 1
            }
        }
        let known = try PortalStore.records(decoded.map(\.1.recordId), in: tx)
        var acks: [PortalStore.Ack] = []
        for (message, ack) in decoded {
            let refusal: String?
            if let record = known[ack.recordId] {
                if record.dossierId != ack.dossierId {
                    refusal = "acknowledges record \(ack.recordId) for another dossier than the record's"
                } else if record.statusCode != ack.statusCode.rawValue {
                    refusal = "acknowledges status \(ack.statusCode.rawValue) but record \(ack.recordId) is status "
                        + "\(record.statusCode)"
                } else {
                    refusal = nil
                }
            } else {
                refusal = "acknowledges record \(ack.recordId), which MotCua did not produce"
            }
            if let refusal {
                outbox.append(.deadLetter(of: message, error: refusal, consumer: Self.consumerName))
                report.deadLetters += 1
                continue
            }
            acks.append(
                PortalStore.Ack(
                    recordId: ack.recordId, dossierId: ack.dossierId, statusCode: ack.statusCode.rawValue,
                    accepted: ack.accepted, reason: ack.reason, at: ack.at, topic: message.topic,
                    partition: message.partition, offset: message.offset))
            report.outcomes[ack.accepted ? "accepted" : "refused", default: 0] += 1
            report.processed += 1
        }
        try PortalStore.record(acks, in: tx)
        try OutboxWriter.write(outbox, source: outboxSource, into: tx)
        return report
    }
}

extension PortalSync {
    /// A dossier whose last acknowledged status differs from PostgreSQL's.
    public struct Difference: Sendable, Hashable, Codable {
        public var dossierId: String
        public var code: String?
        /// The national code of `dossier_status.status`.
        public var status: Int
        /// The last record produced (nil: none), and the last one the portal accepted (nil: none).
        public var lastSent: Int?
        public var lastAcknowledged: Int?
    }

    /// The dossiers whose status changed on the local `day` and whose last accepted acknowledgement is not their
    /// status now (a record lost on the way, refused, or not acknowledged yet).
    public static func reconcile(day: LocalDate, in connection: PostgresConnection) throws -> [Difference] {
        try PortalStore.reconciliation(day: day.description, in: connection).compactMap { row in
            guard let status = PortalStatus(status: row.status), row.lastAcknowledged != status.rawValue else {
                return nil
            }
            return Difference(
                dossierId: row.dossierId, code: row.code, status: status.rawValue, lastSent: row.lastSent,
                lastAcknowledged: row.lastAcknowledged)
        }
    }
}
