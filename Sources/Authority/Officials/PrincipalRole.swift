/// What a registered principal is: an official of a department by rank, a one-stop desk official, or a service.
public enum PrincipalRole: String, Sendable, Hashable, Codable, CaseIterable {
    case specialist
    case headOfDivision = "head-of-division"
    case deputyDirector = "deputy-director"
    case director
    /// A one-stop desk official, who takes applicants' commands in person (after checking their receipt secret).
    case desk
    /// A service such as the public portal, which takes applicants' commands online.
    case service

    /// Officials of a department (who may prepare, request and, by rank, sign).
    public var isOfficial: Bool {
        switch self {
        case .specialist, .headOfDivision, .deputyDirector, .director: true
        case .desk, .service: false
        }
    }

    /// The channels that may carry an applicant's command (withdrawal, supplement).
    public var isChannel: Bool { self == .desk || self == .service }
}
