-- Drafts that need approval (issue 20, part 3): a supplement request (form 02), a refusal, an apology and extension
-- request (form 04) and a stop notice (form 05) are written by an official of the department (signed command),
-- approved by the leader the kind requires or returned with a reason (signed command); only an approved draft is
-- sent, and only then does it take effect (the clock pauses, the step is refused, the appointment moves, the dossier
-- stops). The department's worker owns these rows, as it owns its decisions and stages.
CREATE TABLE drafts (
    -- The signed write command's id.
    draft_id      uuid PRIMARY KEY,
    dossier_id    text NOT NULL,
    step          integer NOT NULL,
    round         integer NOT NULL,
    department    text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('supplement', 'refuse', 'apology', 'stop')),
    reason        text NOT NULL CHECK (reason <> ''),
    -- supplement: the documents asked for, comma-separated catalogue ids.
    documents     text,
    -- apology (form 04): the new appointment date.
    new_date      date,
    written_by    text NOT NULL,
    written_at    timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'written' CHECK (state IN ('written', 'sent', 'returned')),
    -- Who approved (sent) or returned it, when, and the reason of a return.
    decided_by    text,
    decided_at    timestamptz,
    return_reason text,
    CHECK ((state = 'written') = (decided_by IS NULL)),
    CHECK (state <> 'returned' OR return_reason IS NOT NULL),
    CHECK (kind <> 'apology' OR new_date IS NOT NULL),
    CHECK (kind <> 'supplement' OR documents IS NOT NULL)
);
-- One draft of a kind waits for approval per dossier step at a time; a step sends one stop notice and one apology.
CREATE UNIQUE INDEX drafts_one_waiting ON drafts (dossier_id, step, kind) WHERE state = 'written';
CREATE UNIQUE INDEX drafts_sent_once ON drafts (dossier_id, step, kind)
    WHERE state = 'sent' AND kind IN ('apology', 'stop');
-- A stopped dossier is decided no further: the workers look it up by dossier.
CREATE INDEX drafts_stopped ON drafts (dossier_id) WHERE state = 'sent' AND kind = 'stop';

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_024;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_024();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE (state, decided_by, decided_at, return_reason) ON drafts TO %s',
                   workers);
    GRANT SELECT ON drafts TO motcua_coordinator, motcua_auditor;
    -- A department writes only its own rows.
    DROP TRIGGER IF EXISTS motcua_guard ON drafts;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON drafts FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
