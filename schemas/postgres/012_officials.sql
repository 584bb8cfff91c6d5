-- The officials registry (issue 18, "proven authority"): who may sign for a department, with which key, when.
--
-- Principals are officials (specialist, head-of-division, deputy-director, director), one-stop desk officials
-- (desk) and services such as the public portal (service), each with the X.509 signing certificate it signs
-- commands with: `motcua officials add --certificate FILE` verifies the certificate's chain against the CA
-- certificates the City trusts (deploy/trust/) before it records it, and stores the certificate (DER) and the
-- facts the workers check (public key, validity). Private keys never reach PostgreSQL.
--
-- Append-only, as delegation changes: a principal is added once, revoked (at + reason) by a later row, and a
-- deputy's work authorisation (signing for the director on named procedures for a period, instrument cited) is a
-- row of its own. Nobody updates or deletes a row, the schema owner included: a wrong row is answered by a later
-- one. Department workers read the registry (only when a batch holds commands) at their batch instant; the
-- registry is in force from its first row (commands before it were unsigned: the audit notes them).
CREATE TABLE official_changes (
    seq          bigserial PRIMARY KEY,
    principal_id text NOT NULL CHECK (principal_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    kind         text NOT NULL CHECK (kind IN ('add', 'revoke', 'authorise')),
    -- add: the principal (id, name, department, division, role, key, validity); revoke: {at, reason};
    -- authorise: the work authorisation (for whom, procedures, period, instrument).
    record       jsonb NOT NULL,
    -- add: the signing certificate, DER.
    certificate  bytea CHECK ((kind = 'add') = (certificate IS NOT NULL)),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL DEFAULT current_user
);
CREATE UNIQUE INDEX official_changes_one_add ON official_changes (principal_id) WHERE kind = 'add';
CREATE UNIQUE INDEX official_changes_one_revocation ON official_changes (principal_id) WHERE kind = 'revoke';

CREATE FUNCTION motcua_official_changes_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'official_changes is append-only: row % cannot be %', OLD.seq, lower(TG_OP)
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'record a later change instead (motcua officials revoke / authorise / add a new key)';
END $$;
CREATE TRIGGER motcua_official_changes_append_only BEFORE UPDATE OR DELETE ON official_changes
    FOR EACH ROW EXECUTE FUNCTION motcua_official_changes_append_only();
CREATE TRIGGER motcua_official_changes_no_truncate BEFORE TRUNCATE ON official_changes
    FOR EACH STATEMENT EXECUTE FUNCTION motcua_official_changes_append_only();

-- Workers and the coordinator read the registry; only the schema owner (operators) records changes.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_011;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_011();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT ON official_changes TO %s, motcua_coordinator, motcua_auditor', workers);
END $$;
SELECT motcua_grant_roles();
