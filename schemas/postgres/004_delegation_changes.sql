-- Delegation changes made with `motcua delegations grant|revoke`, overlaid by the workers on the records of
-- deploy/delegations/. Each row holds the whole resulting record (its canonical JSON and version, also stored in
-- delegation_versions so that decisions can cite it and replay can rebuild it).
CREATE TABLE delegation_changes (
    seq            bigserial PRIMARY KEY,
    delegation_id  text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('grant', 'revoke')),
    version        text NOT NULL REFERENCES delegation_versions (version),
    canonical_json text NOT NULL,
    -- grant: the start of validity; revoke: the instant from which dossiers decided are outside the delegation.
    effective_at   timestamptz NOT NULL,
    instrument     text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX delegation_changes_one_grant ON delegation_changes (delegation_id) WHERE kind = 'grant';
CREATE UNIQUE INDEX delegation_changes_one_revocation ON delegation_changes (delegation_id) WHERE kind = 'revoke';

-- The number of the latest change, in a single row. A worker reads it `FOR SHARE` at the start of every batch and
-- reloads the changes when it moved; `motcua delegations` updates it first in its transaction, so it waits for the
-- batches in flight and every later batch sees the change before it decides anything.
CREATE TABLE delegation_change_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL
);
INSERT INTO delegation_change_head (singleton, seq) VALUES (true, 0);
