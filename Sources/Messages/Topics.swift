import Authority
import EffectivelyOnce

/// Topic and consumer-group names of one MotCua system.
///
/// Every name starts with ``prefix`` (default: empty, so production names are `dossiers.intake`, `dossier.events`,
/// …). A prefix gives a system topics and groups of its own on a shared cluster: each test runs under one, and so can
/// two systems side by side. Department topics are `dossiers.<department>`; every input topic has a `.dlq` twin.
public struct Topics: Sendable, Hashable {
    /// Prepended to every topic and consumer-group name. Default: `""`.
    public var prefix: String
    /// The largest message each topic takes, by unprefixed name (`deploy/topics.yaml` `maxMessageBytes`); writers
    /// check their outbox messages against it (``messageSizeLimits``). Default: none (no check).
    public var maxMessageBytes: [String: Int] = [:]

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// These topics with the limits of `specs`.
    public func withLimits(of specs: TopicSpecs) -> Topics {
        var topics = self
        topics.maxMessageBytes = specs.maxMessageBytes
        return topics
    }

    /// The size limit of each topic by its full (prefixed) name, for ``OutboxWriter``.
    public var messageSizeLimits: OutboxSizeLimits {
        OutboxSizeLimits(Dictionary(uniqueKeysWithValues: maxMessageBytes.map { (prefix + $0.key, $0.value) }))
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
    public func department(_ department: DepartmentID) -> String { prefix + "dossiers." + department.rawValue }

    /// Every topic a system uses, for the given departments, with its partition count as `specs` (read from
    /// `deploy/topics.yaml`, the one list of them) gives it; throws naming a topic the file does not list.
    public func all(departments: [DepartmentID], specs: TopicSpecs) throws -> [(name: String, partitions: Int)] {
        var names = ["dossiers.intake", DeadLetter.topic(of: "dossiers.intake")]
        for department in departments {
            names.append("dossiers." + department.rawValue)
            names.append(DeadLetter.topic(of: "dossiers." + department.rawValue))
        }
        names += ["dossier.events", "escalations", "portal.sync", "portal.sync.ack", DeadLetter.topic(of: "portal.sync.ack"), "notifications"]
        return try names.map { name in
            guard let partitions = specs.partitions[name] else { throw TopicSpecs.Missing(topic: name, file: specs.file) }
            return (prefix + name, partitions)
        }
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
    /// An official's stage action inside the department (propose, approve, return, transfer, recall).
    public static let stage = "motcua.official.stage"
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
    /// A registered payment gateway (or a desk official) confirms a dossier's fee was paid.
    public static let confirmPayment = "motcua.payment.confirm"
    /// The applicant rates the handling of a decided dossier (through a channel).
    public static let rate = "motcua.applicant.rate"
    /// A complaint about a dossier's handling, recorded by a channel.
    public static let complain = "motcua.applicant.complain"
    /// An intake dossier (producers may omit it).
    public static let intake = "motcua.dossier.submitted"
}
