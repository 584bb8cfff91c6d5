-- Withdrawals: the applicant withdrew the dossier before it was decided. Written by the department worker that
-- held the dossier, in the batch transaction of the withdrawal command; a withdrawn dossier is decided no further.
CREATE TABLE withdrawals (
    dossier_id       text PRIMARY KEY,
    department       text NOT NULL,
    step             integer NOT NULL,
    reason           text,
    withdrawn_at     timestamptz NOT NULL,
    source_topic     text NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL
);

-- Officials and citizens look dossiers up by code as often as by id.
CREATE INDEX dossier_status_code ON dossier_status (code);
