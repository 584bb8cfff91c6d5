-- Stage deadlines in the coordinator (issue 20): each open stage of a dossier step inside a department has its due
-- instant (the department's worker computes it when the stage is entered and carries it on the `stage-moved` event,
-- `data.dueAt`); the coordinator's projection keeps it here and its deadline timer escalates inside the department:
--   head_at      the stage is due soon (less than one working day left: from the close of the working day before
--                its due day): escalation to the head of the division;
--   director_at  still not handed over one further working day after its due instant (17:00 local of the next
--                working day): escalation to the director.
-- A level whose recipient is not above the stage's role is not sent (a head of division's stage goes to the director
-- only, a director's stage has nobody above inside the department). Nothing here goes to the City: the step's own
-- deadline (`deadlines`) still escalates to the department head and the delegator only when the step is overdue.
--
-- One row per dossier step: the stage it is at now. A hand-over to another stage (or the same stage with a new due
-- instant: a return, a recall) starts the row afresh (`fired` 0); a transfer to another official keeps it. Closed by
-- the signature or refusal, and when the dossier is decided, withdrawn or its result returned.
CREATE TABLE stage_deadlines (
    dossier_id   text NOT NULL,
    step         integer NOT NULL,
    round        integer NOT NULL,
    department   text NOT NULL,
    stage        text NOT NULL,
    entered_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    head_at      timestamptz NOT NULL,
    director_at  timestamptz NOT NULL,
    -- Levels fired: 1 head of division, 2 director.
    fired        smallint NOT NULL DEFAULT 0,
    next_fire_at timestamptz,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at    timestamptz,
    PRIMARY KEY (dossier_id, step)
);
CREATE INDEX stage_deadlines_next_fire ON stage_deadlines (next_fire_at) WHERE status = 'open' AND next_fire_at IS NOT NULL;

-- In-department escalations, once per stage entry and level: counted apart from the step escalations of
-- `escalations` (which go to the department head and the City's delegator).
CREATE TABLE stage_escalations (
    dossier_id  text NOT NULL,
    step        integer NOT NULL,
    round       integer NOT NULL,
    stage       text NOT NULL,
    entered_at  timestamptz NOT NULL,
    level       text NOT NULL CHECK (level IN ('head', 'director')),
    reason      text NOT NULL CHECK (reason IN ('due-soon', 'overdue', 'overdue-unresolved')),
    department  text NOT NULL,
    division    text,
    recipient   text NOT NULL,
    due_at      timestamptz NOT NULL,
    opened_at   timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, step, round, stage, entered_at, level)
);
CREATE INDEX stage_escalations_department ON stage_escalations (department, opened_at);

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_023;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_grant_roles_before_023();
    GRANT SELECT, INSERT, UPDATE ON stage_deadlines TO motcua_coordinator;
    GRANT SELECT, INSERT ON stage_escalations TO motcua_coordinator;
    GRANT SELECT ON stage_deadlines, stage_escalations TO motcua_auditor;
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
