-- Issue 21, the City's scorecard: the records MotCua sends to the National Public Service Portal and the
-- integration gateway's acknowledgements ("synced" = acknowledged). No personal data in either.

-- Every portal record the status projection produced (one per change of the national status code of a dossier),
-- written in the projection's transaction together with its outbox row on `portal.sync`.
CREATE TABLE portal_sync_records (
    id          bigserial PRIMARY KEY,
    record_id   uuid NOT NULL UNIQUE,
    dossier_id  text NOT NULL,
    status_code smallint NOT NULL CHECK (status_code BETWEEN 1 AND 10),
    status_at   timestamptz NOT NULL
);
CREATE INDEX portal_sync_records_dossier ON portal_sync_records (dossier_id, id);

-- The gateway's acknowledgements (`portal.sync.ack`), one per record: accepted by the portal, or refused with the
-- portal's reason. Only acknowledgements of a record MotCua produced, with its dossier and code, are recorded.
CREATE TABLE portal_sync_acks (
    record_id        uuid PRIMARY KEY REFERENCES portal_sync_records (record_id),
    dossier_id       text NOT NULL,
    status_code      smallint NOT NULL CHECK (status_code BETWEEN 1 AND 10),
    accepted         boolean NOT NULL,
    reason           text,
    acknowledged_at  timestamptz NOT NULL,
    source_topic     text NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL
);
CREATE INDEX portal_sync_acks_dossier ON portal_sync_acks (dossier_id);

-- The coordinator writes both; the auditor reads them (its default privileges cover new tables).
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_016;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_grant_roles_before_016();
    GRANT SELECT, INSERT ON portal_sync_records, portal_sync_acks TO motcua_coordinator;
    GRANT USAGE ON SEQUENCE portal_sync_records_id_seq TO motcua_coordinator;
    GRANT SELECT ON portal_sync_records, portal_sync_acks TO motcua_auditor;
END $$;
SELECT motcua_grant_roles();
-- It granted SELECT on whole tables again: take the outbox payloads back from the services' roles (013, 015).
SELECT motcua_protect_personal_data();

-- The coordinator consumes `portal.sync.ack` too: its offsets there are its own.
ALTER FUNCTION motcua_may_write(text, jsonb) RENAME TO motcua_may_write_before_016;
CREATE FUNCTION motcua_may_write(kind text, r jsonb) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF motcua_may_write_before_016(kind, r) THEN RETURN true; END IF;
    RETURN kind = 'offsets' AND r->>'topic' = 'portal.sync.ack'
        AND to_regrole('motcua_coordinator') IS NOT NULL
        AND pg_has_role(current_user, 'motcua_coordinator', 'USAGE');
END $$;
