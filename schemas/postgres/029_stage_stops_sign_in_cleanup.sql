-- Inside a department (issue 20), two small additions:
--
-- 1. A stop notice (form 05) closes the dossier's open stage with a line of its own on the processing-control slip
--    (`stopped`, with its verdict against the stage's quota), as a signature or refusal closes it.
-- 2. The officials' sign-ins: the coordinator deletes assertions past their own expiry (`expires_at`) as it accepts
--    new ones. An assertion not yet expired cannot be deleted (a trigger refuses it), so a used one stays refused as
--    replayed for as long as it could be presented.
ALTER TABLE stage_handovers DROP CONSTRAINT stage_handovers_action_check;
ALTER TABLE stage_handovers ADD CONSTRAINT stage_handovers_action_check
    CHECK (action IN ('assign', 'propose', 'approve', 'return', 'transfer', 'recall', 'sign', 'refuse', 'stopped'));

CREATE FUNCTION motcua_sign_ins_delete_expired_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.expires_at > now() THEN
        RAISE EXCEPTION 'official_sign_ins: an assertion is kept until it expires (%): delete refused', OLD.expires_at
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER motcua_expired_only BEFORE DELETE ON official_sign_ins FOR EACH ROW
    WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_sign_ins_delete_expired_only();
CREATE INDEX official_sign_ins_expiry ON official_sign_ins (expires_at);

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_029;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_grant_roles_before_029();
    GRANT DELETE ON official_sign_ins TO motcua_coordinator;
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
