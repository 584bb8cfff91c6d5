-- Issue 23, the catalogue versioned like rules: the terms of every catalogue version reception received a dossier
-- under (per procedure: time limit and unit, steps, required documents, facts), and the version on each dossier.
-- A dossier keeps the terms in force when it was received: a corrected time limit applies to dossiers received
-- after the correction; the audit replay re-derives each dossier's due date with the version it recorded.

-- Exact text of every catalogue version used (version = SHA-256 of the canonical text, checked here: a text cannot
-- be stored under another text's version). Stored once, by reception, when first used; never changed.
CREATE TABLE catalogue_versions (
    version        text PRIMARY KEY CHECK (version = encode(sha256(convert_to(canonical_text, 'UTF8')), 'hex')),
    canonical_text text NOT NULL,
    first_used_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION motcua_catalogue_versions_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'catalogue_versions is append-only: a stored version cannot be %d', lower(TG_OP)
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'correct deploy/catalog: the corrected terms are a new version, stored when first used';
END $$;
CREATE TRIGGER motcua_catalogue_versions_append_only BEFORE UPDATE OR DELETE ON catalogue_versions
    FOR EACH ROW EXECUTE FUNCTION motcua_catalogue_versions_append_only();
CREATE TRIGGER motcua_catalogue_versions_no_truncate BEFORE TRUNCATE ON catalogue_versions
    FOR EACH STATEMENT EXECUTE FUNCTION motcua_catalogue_versions_append_only();

-- The version each dossier was received under (null: received before this migration, or by an older reception).
-- No foreign key (a row trigger on every received dossier, see 007): reception stores the version in the same
-- transaction, and the audit replay reports a dossier whose version is not in catalogue_versions.
ALTER TABLE dossiers ADD COLUMN catalogue_version text;

-- Reception (its own role since 017) stores versions; the coordinator, workers and the auditor read them.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_021;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_021();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    GRANT SELECT, INSERT ON catalogue_versions TO motcua_reception;
    GRANT SELECT ON catalogue_versions TO motcua_coordinator;
    EXECUTE format('GRANT SELECT ON catalogue_versions TO %s, motcua_auditor', workers);
END $$;
SELECT motcua_grant_roles();

-- The auditor's and the coordinator's column grants on dossiers (013) name their columns: add the new one.
ALTER FUNCTION motcua_protect_personal_data() RENAME TO motcua_protect_personal_data_before_021;
CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_protect_personal_data_before_021();
    GRANT SELECT (catalogue_version) ON dossiers TO motcua_auditor, motcua_coordinator;
END $$;
SELECT motcua_protect_personal_data();
