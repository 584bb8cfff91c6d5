-- MotCua core tables: dossiers, decisions, rule and delegation versions, consumer offsets, outbox.

-- Exact text of every rule-set version used by a decision (version = SHA-256 of the canonical text).
CREATE TABLE rule_versions (
    version        text PRIMARY KEY,
    department     text NOT NULL,
    canonical_text text NOT NULL,
    first_used_at  timestamptz NOT NULL DEFAULT now()
);

-- Exact snapshot of every delegation record version a decision relied on.
CREATE TABLE delegation_versions (
    version        text PRIMARY KEY,
    delegation_id  text NOT NULL,
    canonical_json text NOT NULL,
    first_used_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per dossier received. `body` is the intake message (it holds personal data: applicant id and name).
CREATE TABLE dossiers (
    id              text PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    procedure       text NOT NULL,
    channel         text NOT NULL,
    commune         text NOT NULL,
    applicant_kind  text NOT NULL,
    submitted_at    timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    status          text NOT NULL,
    department      text,
    step            integer NOT NULL DEFAULT 0,
    due_date        date,
    body            jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossiers_department_status ON dossiers (department, status);

-- Per-agency, per-day sequence of dossier codes (AGENCY-yymmdd-NNNNNN).
CREATE TABLE dossier_code_sequences (
    agency_code text NOT NULL,
    day         date NOT NULL,
    last_value  integer NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- Every decision a department worker made: one per dossier, step and round (a round is one evaluation; an
-- applicant's supplement starts the next round of the same step).
CREATE TABLE decisions (
    dossier_id        text NOT NULL,
    step              integer NOT NULL,
    round             integer NOT NULL DEFAULT 0,
    department        text NOT NULL,
    procedure         text NOT NULL,
    outcome           text NOT NULL CHECK (outcome IN ('approve', 'refuse', 'supplement', 'escalate', 'forward')),
    review            text NOT NULL CHECK (review IN ('auto', 'official')),
    rule_id           text,
    rule_version      text NOT NULL REFERENCES rule_versions (version),
    delegation_id     text,
    delegation_version text REFERENCES delegation_versions (version),
    escalation_reason text,
    forward_to        text,
    decided_at        timestamptz NOT NULL,
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    explanation       jsonb NOT NULL,
    signed_by         text,
    signed_at         timestamptz,
    signed_outcome    text CHECK (signed_outcome IN ('approve', 'refuse')),
    signed_reason     text,
    PRIMARY KEY (dossier_id, step, round)
);
CREATE INDEX decisions_department_decided ON decisions (department, decided_at);
CREATE INDEX decisions_awaiting_signature ON decisions (department) WHERE review = 'official' AND signed_at IS NULL;

-- Offsets consumed, written in the same transaction as the work they paid for. `next_offset` is the next to read.
CREATE TABLE consumer_offsets (
    consumer_group text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Outgoing messages, written in the work's transaction and published by the relay of their `source`.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    source     text NOT NULL,
    event_id   uuid NOT NULL UNIQUE,
    topic      text NOT NULL,
    key        text NOT NULL,
    ce_type    text NOT NULL,
    payload    bytea NOT NULL,
    headers    jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (source, id) WHERE sent_at IS NULL;

-- Event ids a consumer has applied, for consumers that must ignore redelivered events.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
