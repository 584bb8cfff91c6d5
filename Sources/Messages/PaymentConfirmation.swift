import Authority
import Foundation

/// A payment gateway's confirmation that a dossier's fee was paid, on the department topic that holds the dossier
/// (type ``MessageType/confirmPayment``), signed like officials' commands (``SignedCommands``) by a registered
/// payment gateway (a `service` principal of the `payments` department) or, for the desk, a one-stop desk official.
/// Always signed: a confirmation is refused unsigned even before the registry of officials is in force.
public struct PaymentConfirmation: Codable, Sendable, Hashable {
    /// Where the fee was paid. The national portal and the provincial gateway are "paid online" (the portal's
    /// codes 1 and 2); the desk is not.
    public enum Channel: String, Codable, Sendable, Hashable, CaseIterable {
        case nationalPortal = "national-portal"
        case provincialGateway = "provincial-gateway"
        case desk

        /// The national portal's online-payment code (1 national portal, 2 provincial gateway); nil at the desk.
        public var portalCode: Int? {
            switch self {
            case .nationalPortal: 1
            case .provincialGateway: 2
            case .desk: nil
            }
        }
    }

    public var commandId: UUID
    public var dossierId: String
    /// The step whose approval waits for the fee (the procedure's last step), if the gateway names it.
    public var step: Int?
    /// The amount paid, in đồng: it must be the fee requested.
    public var amount: Int
    public var channel: Channel
    /// The gateway's receipt number (letters, digits, `.`, `_`, `/`, `-`; at most 64): one dossier per receipt.
    public var receiptNumber: String
    public var at: Date
    public var signature: CommandSignature?

    public init(
        commandId: UUID, dossierId: String, step: Int? = nil, amount: Int, channel: Channel, receiptNumber: String,
        at: Date
    ) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.amount = amount
        self.channel = channel
        self.receiptNumber = receiptNumber
        self.at = at
    }

    /// Whether `text` is a receipt number as `fee_payments` takes it.
    public static func isValidReceipt(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64 else { return false }
        return text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "-")
        }
    }
}
