import Foundation
import Postgres
import TestSupport
import Testing

/// Attacks on migration 010 as a department worker's database role would make them (`SET ROLE`, COPY and INSERT
/// as the services run them): each is refused with its reason, and nothing changes.
extension RoleTests {
    func outboxRow(source: String, topic: String, key: String, type: String) throws {
        try db.execute(
            """
            INSERT INTO outbox (source, event_id, topic, key, ce_type, payload)
            VALUES ($1, gen_random_uuid(), $2, $3, $4, '\\x7b7d')
            """, [source, topic, key, type])
    }

    func outboxCount(topic: String) throws -> Int {
        try count("SELECT count(*) FROM outbox WHERE topic = $1", [topic])
    }

    func expectRefused(_ what: String, naming reason: String, _ statement: () throws -> Void) {
        do {
            try statement()
            Issue.record("\(what): expected a refusal, but it succeeded")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42501", "\(what): \(error)")
            #expect(error.message.contains(reason), "\(what): \(error.message)")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test("a department's login cannot publish an official's command on another department's topic, nor steps it did not forward")
    func departmentPublishesOnlyWhereItMay() throws {
        try asRole(Self.role("labour")) { () throws in
            // The attack of the issue: a forged signature for culture, as `INSERT INTO outbox … 'dossiers.culture'`.
            expectRefused("an official's command on dossiers.culture", naming: "may not publish") {
                try outboxRow(source: "labour", topic: "dossiers.culture", key: "d-culture", type: "motcua.official.sign")
            }
            expectRefused("a step task on its own topic", naming: "may not publish") {
                try outboxRow(source: "labour", topic: "dossiers.labour", key: "d-labour", type: "motcua.dossier.step")
            }
            expectRefused("a dossier on the intake", naming: "may not publish") {
                try outboxRow(source: "labour", topic: "dossiers.intake", key: "x", type: "motcua.dossier.submitted")
            }
            expectRefused("another department's dead letters", naming: "may not publish") {
                try outboxRow(source: "labour", topic: "dossiers.culture.dlq", key: "x", type: "unknown")
            }
            expectRefused("a step to culture for a dossier labour did not forward", naming: "may not publish") {
                try outboxRow(source: "labour", topic: "dossiers.culture", key: "d-labour", type: "motcua.dossier.step")
            }
            // COPY goes through the same guard.
            expectRefused("the same by COPY", naming: "may not publish") {
                try db.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload) FROM STDIN") { writer in
                    try writer.row(text: ["labour", UUID().uuidString.lowercased(), "dossiers.culture", "d-culture",
                                          "motcua.official.sign", "\\x7b7d"])
                }
            }
            // What a worker does publish still goes: events, escalations, its own dead letters, and the step of a
            // dossier it forwards — in the transaction that records the forward decision.
            try outboxRow(source: "labour", topic: "dossier.events", key: "d-labour", type: "motcua.dossier.event")
            try outboxRow(source: "labour", topic: "dossiers.labour.dlq", key: "x", type: "unknown")
            try db.transaction { tx in
                try tx.execute(
                    """
                    INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_version,
                                           forward_to, decided_at, source_topic, source_partition, source_offset,
                                           explanation_id)
                    VALUES ('d-labour', 0, 7, 'labour', 'p1', 'forward', 'auto', 'rv-labour', 'culture', now(),
                            'dossiers.labour', 0, 70, \(Self.emptyExplanation))
                    """, [])
                try tx.execute(
                    """
                    INSERT INTO outbox (source, event_id, topic, key, ce_type, payload)
                    VALUES ('labour', gen_random_uuid(), 'dossiers.culture', 'd-labour', 'motcua.dossier.step', '\\x7b7d')
                    """, [])
            }
        }
        #expect(try outboxCount(topic: "dossiers.culture") == 1)
        #expect(try count("SELECT count(*) FROM outbox WHERE topic = 'dossiers.culture' AND key = 'd-labour'") == 1)
        #expect(try outboxCount(topic: "dossiers.intake") == 0)
        #expect(try outboxCount(topic: "dossiers.culture.dlq") == 0)
        #expect(try count("SELECT count(*) FROM outbox WHERE ce_type = 'motcua.official.sign'") == 0)
    }

    @Test("reception's role routes step tasks but cannot put an official's command on a department topic")
    func receptionPublishesOnlyWhereItMay() throws {
        try asRole("motcua_reception") { () throws in
            expectRefused("a signature from reception's source", naming: "may not publish") {
                try outboxRow(source: "reception", topic: "dossiers.labour", key: "d-labour", type: "motcua.official.sign")
            }
            expectRefused("a step to a topic that is no department's", naming: "may not publish") {
                try outboxRow(source: "reception", topic: "dossiers.finance", key: "d-labour", type: "motcua.dossier.step")
            }
            try outboxRow(source: "reception", topic: "dossiers.labour", key: "d-labour", type: "motcua.dossier.step")
        }
        #expect(try count("SELECT count(*) FROM outbox WHERE ce_type = 'motcua.official.sign'") == 0)
        #expect(try outboxCount(topic: "dossiers.finance") == 0)
    }

    @Test("a recorded signature cannot be changed or cleared, by the department or by the schema owner")
    func signaturesAreWriteOnce() throws {
        try asRole(Self.role("labour")) { () throws in
            #expect(try db.execute(
                "UPDATE decisions SET signed_by = 'ld-0001', signed_at = now(), signed_outcome = 'refuse' WHERE dossier_id = 'd-labour'",
                []) == 1)
            // The attack of the issue: a worker's login rewrites its department's signatures.
            expectRefused("rewrite the signer and outcome", naming: "cannot be changed") {
                try db.execute(
                    "UPDATE decisions SET signed_by = 'someone-else', signed_outcome = 'approve' WHERE department = 'labour' AND signed_outcome = 'refuse'",
                    [])
            }
            expectRefused("clear the signature", naming: "cannot be changed") {
                try db.execute("UPDATE decisions SET signed_by = NULL, signed_at = NULL, signed_outcome = NULL WHERE dossier_id = 'd-labour'", [])
            }
        }
        expectRefused("the owner rewrites it", naming: "cannot be changed") {
            try db.execute("UPDATE decisions SET signed_outcome = 'approve' WHERE dossier_id = 'd-labour'", [])
        }
        #expect(try count(
            "SELECT count(*) FROM decisions WHERE dossier_id = 'd-labour' AND signed_by = 'ld-0001' AND signed_outcome = 'refuse'") == 1)
        // Other columns of a signed row are not signatures: the guard is about the signature only.
        #expect(try db.execute("UPDATE decisions SET procedure = procedure WHERE dossier_id = 'd-labour'", []) == 1)
    }
}
