-- Apologies are the department's (issue 18): `motcua apology` sends a signed `motcua.official.apology` command to the
-- department's topic, and the department's worker checks it at its batch instant (signature, key validity, role,
-- the apology rules), records it here with the signed bytes, and publishes `apology-issued` on dossier.events; the
-- coordinator moves the deadline when it reads that event. An approved apology draft (form 04) is recorded the same
-- way by the worker. So:
--   * the coordinator no longer writes apologies (its INSERT is revoked: it used to, straight from the CLI);
--   * a department inserts an apology only for a dossier step whose deadline is its own (the row's department is the
--     login's, and the deadline of that dossier step names it), and updates none (the row is write-once);
--   * the workers read the deadlines' dates and states (not their timers) to apply the rules.
ALTER TABLE apologies
    -- The department whose worker recorded it (NULL: before 028).
    ADD COLUMN department text,
    -- The signed command (`motcua apology`) or the approved draft's approval command it came from.
    ADD COLUMN command_id uuid,
    -- The signed command's bytes as read from the topic (NULL for an approved draft: the draft's commands are on the
    -- topic). The audit replay compares them with the topic's.
    ADD COLUMN command bytea,
    -- Recorded before this migration (by the coordinator, from `motcua apology` or an approved draft): no slip was
    -- stored to check, so the audit replay notes them rather than calling them forged. Rows of later are false.
    ADD COLUMN before_028 boolean NOT NULL DEFAULT true;
ALTER TABLE apologies ALTER COLUMN before_028 SET DEFAULT false;

-- A department's apology: its own row, for a dossier step whose deadline is its own. Rare: no fast path beyond the
-- superuser's.
CREATE FUNCTION motcua_apology_guard() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NOT NEW.before_028 AND NEW.department = ANY (motcua_departments())
       AND current_user::text = motcua_department_role(NEW.department)
       AND EXISTS (SELECT 1 FROM deadlines d
                   WHERE d.dossier_id = NEW.dossier_id AND d.step = NEW.step AND d.department = NEW.department)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'permission denied: role % may not write an apology of department % for this dossier step',
        current_user, NEW.department
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a department records apologies only for its own deadlines, through its worker';
END $$;

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_028;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_028();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT ON apologies TO %s', workers);
    EXECUTE format('GRANT SELECT (dossier_id, step, kind, department, due_date, status) ON deadlines TO %s', workers);
    REVOKE INSERT, UPDATE, DELETE ON apologies FROM motcua_coordinator;
    DROP TRIGGER IF EXISTS motcua_guard ON apologies;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON apologies FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_apology_guard();
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
