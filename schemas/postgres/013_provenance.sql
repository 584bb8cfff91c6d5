-- Provenance of what a department decides (issue 18, items 3 and 4):
--
-- 1. dossiers.received_sha256: SHA-256 of the dossier as reception put it in the first step task (the canonical
--    JSON of MessageCoding's encoder, keys sorted), never changed (no role but the owner may update it);
--    dossiers.body_sha256: the same digest, kept up to date when a supplement changes the body. A worker decides a
--    step task only if reception received it (step 0: a dossiers row assigned to that department whose
--    received_sha256 is the task dossier's digest) or the previous department forwarded it (a forward decision to
--    that department at the step before, and the body's digest): motcua_step_provenance() answers for a whole
--    batch in one statement, and returns only positions, never a dossier's content (it reads past the row-level
--    security of dossiers, as its owner). Rows received before this migration have no digest: their receipt is
--    the row itself. The audit replay checks the same from the topics (finding `not-received`).
-- 2. dossiers.receipt_secret_sha256: the SHA-256 of the applicant's receipt secret (the intake's optional
--    receiptSecretSha256). Without it a dossier cannot be withdrawn or looked up publicly.
-- 3. supplement_requests: an official's request for documents, recorded, so that a supplement is accepted only
--    for an open request (or an automatic `supplement` decision) of the step's latest round.
-- 4. A withdrawal names a dossier reception received (a guard, also for a department login's own INSERT).

ALTER TABLE dossiers ADD COLUMN received_sha256 bytea, ADD COLUMN body_sha256 bytea,
    ADD COLUMN receipt_secret_sha256 bytea;

CREATE TABLE supplement_requests (
    dossier_id   text NOT NULL,
    step         integer NOT NULL,
    round        integer NOT NULL,
    department   text NOT NULL,
    documents    text[] NOT NULL,
    official     text NOT NULL,
    reason       text,
    requested_at timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, step, round)
);

-- The positions (1-based, in the order of the arrays) of the step tasks `department` may decide; `digests` are
-- the hex SHA-256 of each task's dossier.
CREATE FUNCTION motcua_step_provenance(department text, ids text[], steps integer[], rounds integer[],
                                       digests text[])
    RETURNS TABLE (task_index bigint) LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    -- As the function's owner, current_user is the owner: the caller is the session's user (a login in a
    -- department role, or the owner).
    IF NOT (pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'dossiers'::regclass), 'USAGE')
            OR (to_regrole(motcua_department_role(department)) IS NOT NULL
                AND pg_has_role(session_user, motcua_department_role(department), 'USAGE')))
    THEN
        RAISE EXCEPTION 'permission denied: role % is not of the % department', session_user, department
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT t.i FROM unnest(ids, steps, rounds, digests) WITH ORDINALITY AS t(id, step, round, digest, i)
    JOIN dossiers d ON d.id = t.id
    WHERE (t.step = 0 AND d.department = motcua_step_provenance.department
           AND (d.received_sha256 IS NULL OR d.received_sha256 = decode(t.digest, 'hex')))
       OR (t.step > 0 AND (d.body_sha256 IS NULL OR d.body_sha256 = decode(t.digest, 'hex')) AND EXISTS (
                   SELECT 1 FROM decisions f
                   WHERE f.dossier_id = t.id AND f.step = t.step - 1 AND f.outcome = 'forward'
                     AND f.forward_to = motcua_step_provenance.department))
    UNION
    -- A step already decided by the department (a task delivered again after a supplement changed the body): its
    -- decision stands, the worker skips it as a repeat.
    SELECT t.i FROM unnest(ids, steps, rounds) WITH ORDINALITY AS t(id, step, round, i)
    WHERE EXISTS (SELECT 1 FROM decisions o WHERE o.dossier_id = t.id AND o.step = t.step AND o.round = t.round
                    AND o.department = motcua_step_provenance.department);
END $$;

-- A withdrawal names a dossier reception received.
CREATE FUNCTION motcua_withdrawal_of_received() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM dossiers WHERE id = NEW.dossier_id) THEN
        RAISE EXCEPTION 'no dossier % was received: a withdrawal names a received dossier', NEW.dossier_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER motcua_withdrawal_of_received BEFORE INSERT OR UPDATE OF dossier_id ON withdrawals FOR EACH ROW
    EXECUTE FUNCTION motcua_withdrawal_of_received();

DO $$
DECLARE
    workers text;
BEGIN
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT UPDATE (body_sha256) ON dossiers TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT ON supplement_requests TO %s', workers);
    EXECUTE format('GRANT EXECUTE ON FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[]) TO %s',
                   workers);
    GRANT SELECT ON supplement_requests TO motcua_auditor;
END $$;

CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON supplement_requests FOR EACH ROW
    WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');

-- 5. Delegation changes are history: a recorded grant or revocation is never edited or removed, by anyone (the
--    schema owner included). A wrong revocation is corrected by a later record (a grant with `supersedes`).
CREATE FUNCTION motcua_delegation_changes_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'delegation change history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'correct a wrong revocation by granting a record with a new id and supersedes: <id>';
END $$;

CREATE TRIGGER motcua_append_only BEFORE UPDATE OR DELETE ON delegation_changes FOR EACH ROW
    EXECUTE FUNCTION motcua_delegation_changes_append_only();
CREATE TRIGGER motcua_append_only_truncate BEFORE TRUNCATE ON delegation_changes FOR EACH STATEMENT
    EXECUTE FUNCTION motcua_delegation_changes_append_only();

-- 6. Applicants' ids and names (dossiers.body; the payloads of outbox rows: step tasks and dead letters carry the
--    dossier) are read only by reception (the coordinator role) and the owning department: the auditor reads
--    every column of dossiers but body, and no role but the owner reads outbox.payload or headers directly. A relay
--    reads its own source's unsent rows through motcua_outbox_unsent(), which checks that the session may relay
--    that source (a department's login its department, the coordinator's reception and coordinator rows).
--    motcua_protect_personal_data() re-applies this; a later migration that calls motcua_grant_roles() (which
--    grants SELECT on whole tables) calls it after.
CREATE FUNCTION motcua_may_relay(source text) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
DECLARE
    d text;
BEGIN
    IF pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE') THEN
        RETURN true;
    END IF;
    FOREACH d IN ARRAY motcua_departments() LOOP
        IF source = d AND to_regrole(motcua_department_role(d)) IS NOT NULL
           AND pg_has_role(session_user, motcua_department_role(d), 'USAGE') THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN (source = 'reception' OR left(source, 11) = 'coordinator')
        AND to_regrole('motcua_coordinator') IS NOT NULL AND pg_has_role(session_user, 'motcua_coordinator', 'USAGE');
END $$;

CREATE FUNCTION motcua_outbox_unsent(source text, above bigint, max_rows integer, excluded bigint[])
    RETURNS TABLE (id bigint, event_id uuid, topic text, key text, ce_type text, payload bytea, headers jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF NOT motcua_may_relay(source) THEN
        RAISE EXCEPTION 'permission denied: role % may not relay the outbox rows of %', session_user, source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT o.id, o.event_id, o.topic, o.key, o.ce_type, o.payload, o.headers FROM outbox o
    WHERE o.source = motcua_outbox_unsent.source AND o.sent_at IS NULL AND o.parked_at IS NULL
      AND o.id > above AND (excluded IS NULL OR o.id <> ALL (excluded))
    ORDER BY o.id LIMIT max_rows;
END $$;

CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('REVOKE SELECT ON outbox FROM %s, motcua_coordinator, motcua_auditor', workers);
    EXECUTE format('GRANT SELECT (id, source, event_id, topic, key, ce_type, created_at, sent_at, parked_at, park_reason) '
                   'ON outbox TO %s, motcua_coordinator, motcua_auditor', workers);
    EXECUTE format('GRANT EXECUTE ON FUNCTION motcua_outbox_unsent(text, bigint, integer, bigint[]) TO %s, '
                   'motcua_coordinator', workers);
    REVOKE SELECT ON dossiers FROM motcua_auditor;
    GRANT SELECT (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, department,
                  step, due_date, updated_at, received_sha256, body_sha256, receipt_secret_sha256)
        ON dossiers TO motcua_auditor;
    GRANT SELECT (received_sha256, receipt_secret_sha256) ON dossiers TO motcua_coordinator;
END $$;

SELECT motcua_protect_personal_data();
