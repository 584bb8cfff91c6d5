-- Inside a department (issue 20): the internal stages of a dossier step (specialist → head of division → director,
-- deploy/workflows/), who holds each dossier now, and every hand-over (the processing-control slip, form 06).
--
-- The department's worker owns these rows, as it owns its decisions: it enters the first stage when the rules
-- prepare a decision that needs people (assigned round-robin within the division to an official of the stage's
-- role whose registry entry is valid), and applies the officials' signed stage actions (propose, approve, return,
-- transfer, recall, sign, refuse), each also an event on dossier.events so that the replay reads what happened.

-- The current stage of each open dossier step (one row per dossier, step and round; closed when signed).
CREATE TABLE stages (
    dossier_id   text NOT NULL,
    step         integer NOT NULL,
    round        integer NOT NULL,
    department   text NOT NULL,
    division     text NOT NULL,
    procedure    text NOT NULL,
    -- The route as planned when the step entered its first stage, stage by stage "id role quota" (working days)
    -- joined by ",": "examine specialist 6,check head-of-division 2,sign director 2".
    route        text NOT NULL,
    stage_count  integer NOT NULL CHECK (stage_count > 0),
    position     integer NOT NULL CHECK (position >= 0 AND position < stage_count),
    stage        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('specialist', 'head-of-division', 'director')),
    -- Who holds the dossier now (null: nobody of that role is valid in the division; the division's queue).
    assignee     text,
    -- Who handed it over to this stage (the one who may recall it before the assignee acts); null on entry.
    sender       text,
    sender_position integer,
    entered_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    -- How many hand-overs so far (the slip's next line number).
    handovers    integer NOT NULL DEFAULT 0,
    closed_at    timestamptz,
    PRIMARY KEY (dossier_id, step, round)
);
-- An official's queue and a division's: the open stages by due instant (overdue and due soon first).
CREATE INDEX stages_by_assignee ON stages (assignee, due_at) WHERE closed_at IS NULL;
CREATE INDEX stages_by_division ON stages (department, division, due_at) WHERE closed_at IS NULL;

-- The processing-control slip: one row per hand-over, never changed.
CREATE TABLE stage_handovers (
    dossier_id    text NOT NULL,
    step          integer NOT NULL,
    round         integer NOT NULL,
    line          integer NOT NULL,
    department    text NOT NULL,
    division      text NOT NULL,
    action        text NOT NULL CHECK (action IN ('assign', 'propose', 'approve', 'return', 'transfer', 'recall',
                                                  'sign', 'refuse')),
    from_stage    text,
    from_official text,
    to_stage      text,
    to_official   text,
    -- The role the actor acted with when it is above the stage's (a leader acting on a lower stage), else null.
    acted_as      text,
    reason        text,
    at            timestamptz NOT NULL,
    -- The stage left and its quota: entered, due, and the verdict (early, on-time, late); null for an entry.
    stage_entered_at timestamptz,
    stage_due_at  timestamptz,
    verdict       text CHECK (verdict IN ('early', 'on-time', 'late')),
    PRIMARY KEY (dossier_id, step, round, line)
);

CREATE FUNCTION motcua_stage_handovers_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'stage_handovers is append-only (the processing-control slip): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER motcua_append_only BEFORE UPDATE OR DELETE ON stage_handovers FOR EACH ROW
    EXECUTE FUNCTION motcua_stage_handovers_append_only();

-- Round-robin turns, shared by a department's worker processes (a sequence takes no lock).
CREATE SEQUENCE stage_turns;

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_019;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_019();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE (position, stage, role, assignee, sender, sender_position, '
                   'entered_at, due_at, handovers, closed_at) ON stages TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT ON stage_handovers TO %s', workers);
    EXECUTE format('GRANT USAGE ON SEQUENCE stage_turns TO %s', workers);
    GRANT SELECT ON stages, stage_handovers TO motcua_coordinator, motcua_auditor;
    -- A department writes only its own rows.
    DROP TRIGGER IF EXISTS motcua_guard ON stages;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON stages FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
    DROP TRIGGER IF EXISTS motcua_guard ON stage_handovers;
    CREATE TRIGGER motcua_guard BEFORE INSERT ON stage_handovers FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
