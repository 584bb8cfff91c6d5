-- The workers read of `apologies` only what the apology rules need (review of issue 18): whether a dossier step has
-- its apology (`dossier_id`, `step`) and whose it is (`department`). Migration 028 let every department's worker read
-- every column of every department's apologies — reasons, issuers and the signed slips' bytes. A worker's INSERT
-- (… ON CONFLICT DO NOTHING) needs no SELECT. The coordinator and the auditor read them whole, as before.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_032;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_032();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    -- Revoking the table's SELECT revokes its column grants too; then the three columns.
    EXECUTE format('REVOKE SELECT ON apologies FROM %s', workers);
    EXECUTE format('GRANT SELECT (dossier_id, step, department) ON apologies TO %s', workers);
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
