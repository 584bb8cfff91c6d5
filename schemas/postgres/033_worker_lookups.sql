-- The worker's PostgreSQL time a dossier (issue 18: one worker ≥ 0.7× the raw COPY of the same rows).
--
-- 1. One lookup instead of two. A department worker read, per batch, the catalogue versions reception recorded on
--    the batch's dossiers (motcua_recorded_catalogue_versions, 031: the caller's rights, so the row-level security
--    of `dossiers` with its EXISTS over the department's decisions) and then asked motcua_step_provenance which of
--    the batch's tasks it may decide — which reads each task's `dossiers` row by key already. Measured
--    (WorkerBench --statements, 2026-12-07 19:34): 11.2 µs a dossier each. motcua_step_provenance now also answers,
--    for each task it vouches for, whether its dossier has a `dossiers` row and the catalogue version recorded on
--    it; the worker no longer runs the separate read.
--    Who sees what: the function returns rows only for the tasks the department may decide (received by it,
--    forwarded to it, or already decided by it), and of them only the catalogue version — not personal data, and
--    nothing of a dossier the department may not decide. (A forwarded dossier before its first decision by the
--    department is one the row-level security hid from the plain read: its version was then taken from the task,
--    which the provenance digest does not cover; now the recorded one is used for it too.)
--    The function's name and arguments stay; its result gains two columns (`on_record`, `catalogue_version`), so it
--    is dropped and created again, with the same grants and plan setting (031).

DROP FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[]);

-- The positions (1-based, in the order of the arrays) of the step tasks `department` may decide; `digests` are the
-- hex SHA-256 of each task's dossier. With each: whether the dossier has a `dossiers` row and the catalogue version
-- reception recorded on it (null before migration 021, or without a row).
CREATE FUNCTION motcua_step_provenance(department text, ids text[], steps integer[], rounds integer[],
                                       digests text[])
    RETURNS TABLE (task_index bigint, on_record boolean, catalogue_version text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- As the function's owner, current_user is the owner: the caller is the session's user (a login in a
    -- department role, or the owner).
    IF NOT (pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'dossiers'::regclass), 'USAGE')
            OR (to_regrole(motcua_department_role(department)) IS NOT NULL
                AND pg_has_role(session_user, motcua_department_role(department), 'USAGE')))
    THEN
        RAISE EXCEPTION 'permission denied: role % is not of the % department', session_user, department
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT t.i, d.id IS NOT NULL, d.catalogue_version
    FROM unnest(ids, steps, rounds, digests) WITH ORDINALITY AS t(id, step, round, digest, i)
    LEFT JOIN dossiers d ON d.id = t.id
    WHERE (t.step = 0 AND d.department = motcua_step_provenance.department
           AND (d.received_sha256 IS NULL OR d.received_sha256 = decode(t.digest, 'hex')))
       OR (t.step > 0 AND d.id IS NOT NULL AND (d.body_sha256 IS NULL OR d.body_sha256 = decode(t.digest, 'hex'))
           AND EXISTS (
                   SELECT 1 FROM decisions f
                   WHERE f.dossier_id = t.id AND f.step = t.step - 1 AND f.outcome = 'forward'
                     AND f.forward_to = motcua_step_provenance.department))
       -- A step already decided by the department (a task delivered again after a supplement changed the body):
       -- its decision stands, the worker skips it as a repeat.
       OR EXISTS (SELECT 1 FROM decisions o WHERE o.dossier_id = t.id AND o.step = t.step AND o.round = t.round
                    AND o.department = motcua_step_provenance.department);
END $$;

COMMENT ON FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[]) IS
    'the positions of the step tasks a department may decide, each with whether its dossier is on record and the '
    'catalogue version recorded on it (migration 033)';

DO $$
DECLARE
    workers text;
BEGIN
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT EXECUTE ON FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[]) TO %s',
                   workers);
END $$;
