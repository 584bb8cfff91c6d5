import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Store

/// The demo's applicants paying their fees (issue 21): a dossier waiting for its fee is paid a few hours (of the
/// injected clock) after the request — most online (the payment gateway's key, national portal or provincial
/// gateway), some at the desk (a desk official's key) — by a signed `motcua.payment.confirm`.
struct SimulatedPayers {
    var gateway: OfficialSigner
    var desk: OfficialSigner?
    var seed: UInt64
    /// Share paid online (the rest at the desk, when a desk key is loaded).
    var onlineShare = 0.85

    /// The payers of `directory` (`payment-gateway.key.pem`, `desk-1.key.pem` from `motcua officials dev-ca`), or
    /// nil when the gateway's key is not there.
    static func load(directory: String, seed: UInt64, in db: PostgresConnection) throws -> SimulatedPayers? {
        let gatewayPath = (directory as NSString).appendingPathComponent("payment-gateway.key.pem")
        guard FileManager.default.fileExists(atPath: gatewayPath),
            let gateway = try OfficialSigner.load(path: gatewayPath, official: "payment-gateway", in: db)
        else { return nil }
        let deskPath = (directory as NSString).appendingPathComponent("desk-1.key.pem")
        let desk = FileManager.default.fileExists(atPath: deskPath)
            ? try OfficialSigner.load(path: deskPath, official: "desk-1", in: db) : nil
        return SimulatedPayers(gateway: gateway, desk: desk, seed: seed)
    }

    /// Confirms the payments due at `now`; returns how many were sent.
    func pay(
        at now: Date, catalogue: Catalogue, topics: Topics, sent: inout [String: ContinuousClock.Instant],
        producer: KafkaProducer, in db: PostgresConnection
    ) throws -> Int {
        var produced = 0
        for item in try FeeStore.awaitingPayment(limit: 2_000, in: db) {
            if let at = sent[item.dossierId], ContinuousClock.now - at < .seconds(120) { continue }
            guard let kind = Dossier.Applicant.Kind(rawValue: item.applicantKind),
                let amount = catalogue.procedure(item.procedure)?.feeDue(for: kind)
            else { continue }
            // Paid 1 to 30 hours after the request.
            let hours = 1 + Double(StableID.hash64(seed &+ 5, item.dossierId) % 29)
            guard now >= item.since.addingTimeInterval(hours * 3600) else { continue }
            let online = desk == nil
                || Double(StableID.hash64(seed &+ 6, item.dossierId) % 1_000) / 1_000 < onlineShare
            let channel: PaymentConfirmation.Channel = !online
                ? .desk : StableID.hash64(seed &+ 7, item.dossierId) % 2 == 0 ? .nationalPortal : .provincialGateway
            let signer = online ? gateway : desk ?? gateway
            let receipt = "SIM-\(channel.portalCode ?? 0)-" + String(StableID.hash64(seed &+ 8, item.dossierId), radix: 36)
            let command = PaymentConfirmation(
                commandId: StableID.make("payment", item.dossierId), dossierId: item.dossierId, amount: amount,
                channel: channel, receiptNumber: receipt, at: now)
            try producer.produce(KafkaOutgoingMessage(
                topic: topics.department(item.department), key: item.dossierId,
                value: try signer.encode(command, type: MessageType.confirmPayment, department: item.department),
                headers: CloudEvents.headers(
                    id: command.commandId.uuidString.lowercased(), type: MessageType.confirmPayment,
                    source: "motcua/simulate/payers")))
            sent[item.dossierId] = ContinuousClock.now
            produced += 1
        }
        return produced
    }
}
