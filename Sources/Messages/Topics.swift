import EffectivelyOnce

/// Topic and consumer-group names of one MotCua system.
///
/// Every name starts with ``prefix`` (default: empty, so production names are `dossiers.intake`, `dossier.events`,
/// …). A prefix gives a system topics and groups of its own on a shared cluster: each test runs under one, and so can
/// two systems side by side. Department topics are `dossiers.<department>`; every input topic has a `.dlq` twin.
public struct Topics: Sendable, Hashable {
    /// Prepended to every topic and consumer-group name. Default: `""`.
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// Dossiers submitted at the portal, desks and by post (the intake contract).
    public var intake: String { prefix + "dossiers.intake" }
    /// Lifecycle events of every dossier.
    public var events: String { prefix + "dossier.events" }
    /// Deadline and authority escalations.
    public var escalations: String { prefix + "escalations" }
    /// National portal records of every status change, for the integration gateway (``PortalRecord``).
    public var portalSync: String { prefix + "portal.sync" }
    /// Citizens' notification intents (``NotificationIntent``), for the notification gateway.
    public var notifications: String { prefix + "notifications" }
    /// The integration gateway's acknowledgements of those records (``PortalAck``).
    public var portalSyncAck: String { prefix + "portal.sync.ack" }

    /// The topic of a department's step tasks and its officials' commands.
    public func department(_ department: String) -> String { prefix + "dossiers." + department }

    /// Every topic a system uses, with the partition counts of `deploy/topics.yaml`, for the given departments.
    public func all(departments: [String]) -> [(name: String, partitions: Int)] {
        var topics: [(String, Int)] = [(intake, 12), (DeadLetter.topic(of: intake), 3)]
        for department in departments {
            topics.append((self.department(department), 12))
            topics.append((DeadLetter.topic(of: self.department(department)), 3))
        }
        topics.append((events, 12))
        topics.append((escalations, 6))
        topics.append((portalSync, 12))
        topics.append((portalSyncAck, 12))
        topics.append((DeadLetter.topic(of: portalSyncAck), 3))
        topics.append((notifications, 12))
        return topics
    }

    /// A consumer group's name under this prefix (`motcua.reception`, `motcua.labour`, …).
    public func group(_ name: String) -> String { prefix + name }

    /// The dead-letter twin of a topic.
    public static func deadLetter(of topic: String) -> String { DeadLetter.topic(of: topic) }
}

/// CloudEvents types (`ce_type`) of MotCua's messages.
public enum MessageType {
    /// A dossier step for a department worker to evaluate.
    public static let step = "motcua.dossier.step"
    /// An official signs (approves or refuses) a prepared decision.
    public static let sign = "motcua.official.sign"
    /// An official asks the applicant for documents.
    public static let requestSupplement = "motcua.official.request-supplement"
    /// The applicant supplies what was asked.
    public static let supplement = "motcua.applicant.supplement"
    /// The applicant withdraws the dossier.
    public static let withdraw = "motcua.applicant.withdraw"
    /// A lifecycle event on `dossier.events`.
    public static let event = "motcua.dossier.event"
    /// A national portal record on `portal.sync`.
    public static let portalRecord = "motcua.portal.record"
    /// A citizens' notification intent on `notifications`.
    public static let notification = "motcua.notification.intent"
    /// An intake dossier (producers may omit it).
    public static let intake = "motcua.dossier.submitted"
}
