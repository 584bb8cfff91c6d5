-- MotCua coordinator: deadlines (timers held in PostgreSQL), pauses, escalations, apology slips, the status
-- projection of dossier.events, the timeline (hand-over control slip) and on-time statistics.
--
-- Instants are in UTC; days (`date`) are local days in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

-- One deadline per dossier step (step >= 0, kind 'step'), one overall (step -1, kind 'overall') and one per
-- authority escalation to the delegator (step -2, kind 'authority').
--
-- The coordinator computes the firing instants when the due date is set or moves (open, resume, apology):
--   soon_at   08:00 local on the working day `due-soon` working days before due_date;
--   due_at    17:00 local on due_date (end of office hours): `overdue` (+ level-1 escalation) fires then;
--   level2_at 17:00 local, `level-2` working days after due_date (NULL for the overall deadline: it flags the
--             dossier overdue but escalates through its step deadlines).
-- `fired` is a bit set of the levels already fired (1 due-soon, 2 overdue/level 1, 4 level 2), updated in the
-- transaction that writes their events; `next_fire_at` is the earliest unfired instant (NULL: nothing left,
-- paused or closed). Timers claim rows with FOR UPDATE SKIP LOCKED on the partial index below.
CREATE TABLE deadlines (
    dossier_id     text NOT NULL,
    step           integer NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('overall', 'step', 'authority')),
    department     text,
    procedure      text,
    opened_at      timestamptz NOT NULL,
    due_date       date NOT NULL,
    soon_at        timestamptz,
    due_at         timestamptz NOT NULL,
    level2_at      timestamptz,
    fired          smallint NOT NULL DEFAULT 0,
    next_fire_at   timestamptz,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paused', 'closed')),
    paused_since   timestamptz,
    paused_days    integer NOT NULL DEFAULT 0,
    closed_at      timestamptz,
    closed_on_time boolean,
    PRIMARY KEY (dossier_id, step)
);
CREATE INDEX deadlines_next_fire ON deadlines (next_fire_at) WHERE status = 'open' AND next_fire_at IS NOT NULL;
CREATE INDEX deadlines_department_open ON deadlines (department) WHERE status <> 'closed';

-- Paused intervals (supplement requested → supplemented), per deadline. `working_days` is how far the due date
-- moved: working days from the local day the pause started, inclusive, to the day it ended, exclusive.
CREATE TABLE deadline_pauses (
    dossier_id   text NOT NULL,
    step         integer NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    working_days integer,
    PRIMARY KEY (dossier_id, step, started_at)
);

-- Escalations: level 1 to the department head, level 2 to the delegator. kind 'deadline' (reason 'overdue' or
-- 'overdue-unresolved') or 'authority' (always level 2; reason no-delegation, outside-conditions, expired,
-- not-yet-valid, revoked). Closed when the dossier is decided.
CREATE TABLE escalations (
    id          bigserial PRIMARY KEY,
    dossier_id  text NOT NULL,
    step        integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('deadline', 'authority')),
    level       smallint NOT NULL CHECK (level IN (1, 2)),
    reason      text NOT NULL,
    department  text,
    recipient   text NOT NULL,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz,
    closed_by   text,
    UNIQUE (dossier_id, step, kind, level)
);
CREATE INDEX escalations_open ON escalations (dossier_id) WHERE closed_at IS NULL;

-- Apology slips: at most one per dossier step (step -1: the overall deadline), issued before the due date.
CREATE TABLE apologies (
    dossier_id    text NOT NULL,
    step          integer NOT NULL,
    reason        text NOT NULL,
    previous_date date NOT NULL,
    new_date      date NOT NULL CHECK (new_date > previous_date),
    issued_by     text,
    issued_at     timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, step)
);

-- Projection of dossier.events: where each dossier is now.
CREATE TABLE dossier_status (
    dossier_id    text PRIMARY KEY,
    code          text,
    procedure     text,
    status        text NOT NULL,
    department    text,
    step          integer,
    received_at   timestamptz,
    due_date      date,
    step_due_date date,
    overdue       boolean NOT NULL DEFAULT false,
    outcome       text,
    decided_at    timestamptz,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX dossier_status_department ON dossier_status (department, status);

-- Every event of a dossier with its hand-over: from whom, to whom, when, and whether that was before, on or
-- after the due date of the step it concerns (the hand-over control slip).
CREATE TABLE dossier_timeline (
    id               bigserial PRIMARY KEY,
    dossier_id       text NOT NULL,
    event_id         uuid NOT NULL UNIQUE,
    type             text NOT NULL,
    step             integer,
    at               timestamptz NOT NULL,
    from_department  text,
    to_department    text,
    due_date         date,
    timing           text CHECK (timing IN ('before', 'on', 'after')),
    detail           text
);
CREATE INDEX dossier_timeline_dossier ON dossier_timeline (dossier_id, at, id);

-- On-time statistics per department and procedure, from the step deadlines (a step ends when it is forwarded to
-- the next department or decided): closed on time, closed late, still open, and open past their due instant.
CREATE VIEW on_time_statistics AS
SELECT department,
       procedure,
       count(*) FILTER (WHERE status = 'closed' AND closed_on_time)     AS on_time,
       count(*) FILTER (WHERE status = 'closed' AND NOT closed_on_time) AS late,
       count(*) FILTER (WHERE status <> 'closed')                       AS open,
       count(*) FILTER (WHERE status <> 'closed' AND fired & 2 <> 0)    AS open_overdue
FROM deadlines
WHERE kind = 'step'
GROUP BY department, procedure;
