extension Dossier {
    /// How the applicant chose to be told of the dossier's progress (issue 21): an optional intake field. Personal
    /// data: reception stores it apart (`applicant_contacts`, readable only by the notifier role through a narrow
    /// view) and removes it from the dossier, so it is never in the stored body nor on a topic —
    /// ``Dossier/encode(to:)`` never writes it.
    public struct Contact: Sendable, Codable, Hashable {
        public enum Channel: String, Sendable, Codable, Hashable, CaseIterable {
            case sms
            case email
            case zalo
            case post
        }

        public var channel: Channel
        /// A phone number, an e-mail address, a Zalo id or a postal address: 1 to 256 bytes, no control characters.
        /// Personal data: never log it.
        public var address: String

        public init(channel: Channel, address: String) {
            self.channel = channel
            self.address = address
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case channel, address
        }

        public init(from decoder: any Decoder) throws {
            try Dossier.rejectUnknownKeys(decoder, allowed: Set(CodingKeys.allCases.map(\.stringValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            channel = try Dossier.enumeration(c, .channel)
            address = try Dossier.matching(
                c, .address, Contact.isAddress, "expected 1 to 256 bytes without control characters")
        }

        /// Whether `text` is an address the intake takes.
        public static func isAddress(_ text: String) -> Bool {
            let bytes = text.utf8
            return !bytes.isEmpty && bytes.count <= 256 && text.unicodeScalars.allSatisfy { scalar in
                !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.properties.generalCategory == .format)
            } && text.contains { !$0.isWhitespace }
        }
    }
}
