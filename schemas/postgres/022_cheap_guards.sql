-- The worker's guards made cheap, none weakened (issue 18: the worker's throughput with every check on).
--
-- Measured before this migration (backend CPU per dossier, a department worker's batch of 500 as a real worker login
-- against the same batch as the owner, same run; BENCHMARKS.md): the row guards cost ~11 µs a dossier, nearly all
-- of it PL/pgSQL calls for rows the login plainly may write —
--   * stages and stage_handovers (a row each for every decision prepared for officials): their guard had no fast
--     path, so each row called motcua_row_guard, which builds the row as jsonb and walks motcua_may_write's layers
--     (pg_has_role for every department): ~40 µs a prepared decision;
--   * consumer_offsets: the same, for every partition of every batch;
--   * a forward's step task: motcua_may_publish's layers (an owner check through pg_class, to_regrole, pg_has_role)
--     before the one check that matters, the forward decision written in this transaction.
-- Now:
--   1. Every `motcua_guard` trigger calling motcua_row_guard('department') lets a row through in its WHEN clause when
--      the current user is the role of the row's department (and that is a department): what the function would
--      have answered, without calling it. Insert and update become two triggers, `motcua_guard` and
--      `motcua_guard_update`, because only an update's WHEN can read OLD (the row before must be the user's too).
--      Done by motcua_fast_guards() for every such table, those of later migrations too (motcua_grant_roles() calls
--      it last).
--   2. consumer_offsets: the same fast path for a department's own offsets (topic dossiers.<d>, group motcua.<d> or
--      motcua.<d>.*), the rule of motcua_may_write('offsets').
--   3. A department's step task: motcua_publish_guard() checks the department's own forward first (the login is
--      the source's role, the target another department, the forward decision of this transaction exists) and
--      calls motcua_may_publish only for anything else, which refuses as before.
--   4. motcua_step_provenance answers in one pass over the batch: a task that reception received or a forward sent
--      is not looked up again as a repeat (the repeat probe of decisions runs only for the others).
-- Nothing else changes: the refusals, their SQLSTATE (42501) and messages are those of the functions, which every
-- row that is not plainly the user's own still calls.

-- 1 and 2 -------------------------------------------------------------------------------------------------------
-- The WHEN clauses are written out (the role's name, the list of departments as a literal) rather than calling
-- motcua_department_role()/motcua_departments(): a WHEN clause is prepared for every statement, and inlining an SQL
-- function there parses its body each time (~0.3 µs a dossier for the offsets' update alone, measured). So the
-- triggers are re-created, with the list of the day, whenever motcua_grant_roles() runs.
CREATE FUNCTION motcua_fast_guards() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    t record;
    departments text := quote_literal(motcua_departments()::text) || '::text[]';
    fast_new text := format('current_user::text IS DISTINCT FROM (''motcua_worker_'' || replace(NEW.department, '
                            '''-'', ''_'')) OR NEW.department <> ALL (%s)', departments);
    fast_old text := format('current_user::text IS DISTINCT FROM (''motcua_worker_'' || replace(OLD.department, '
                            '''-'', ''_'')) OR OLD.department <> ALL (%s)', departments);
    -- motcua_may_write('offsets') for a department, on (topic, consumer_group) of NEW or OLD.
    own_offsets text := 'left(%1$s.topic, 9) = ''dossiers.'' AND substring(%1$s.topic from 10) = ANY (%2$s) '
        'AND current_user::text = ''motcua_worker_'' || replace(substring(%1$s.topic from 10), ''-'', ''_'') '
        'AND (%1$s.consumer_group = ''motcua.'' || substring(%1$s.topic from 10) '
        'OR left(%1$s.consumer_group, length(%1$s.topic) - 1) = ''motcua.'' || substring(%1$s.topic from 10) || ''.'')';
BEGIN
    -- Tables guarded by the department guard: the plain trigger of the layers before (insert, maybe update), or
    -- the pair made here by an earlier call.
    FOR t IN
        SELECT c.oid::regclass AS tab, bool_or((g.tgtype & 4) <> 0) AS on_insert,
               bool_or((g.tgtype & 16) <> 0) AS on_update
        FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
        WHERE NOT g.tgisinternal AND g.tgname IN ('motcua_guard', 'motcua_guard_update')
          AND g.tgfoid = 'motcua_row_guard'::regproc AND encode(g.tgargs, 'escape') = 'department\000'
          AND c.relnamespace = current_schema()::regnamespace
        GROUP BY c.oid
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS motcua_guard ON %s', t.tab);
        EXECUTE format('DROP TRIGGER IF EXISTS motcua_guard_update ON %s', t.tab);
        IF t.on_insert THEN
            EXECUTE format('CREATE TRIGGER motcua_guard BEFORE INSERT ON %s FOR EACH ROW '
                           'WHEN (current_setting(''is_superuser'') <> ''on'' AND (%s)) '
                           'EXECUTE FUNCTION motcua_row_guard(''department'')', t.tab, fast_new);
        END IF;
        IF t.on_update THEN
            EXECUTE format('CREATE TRIGGER motcua_guard_update BEFORE UPDATE ON %s FOR EACH ROW '
                           'WHEN (current_setting(''is_superuser'') <> ''on'' AND (%s OR %s)) '
                           'EXECUTE FUNCTION motcua_row_guard(''department'')', t.tab, fast_old, fast_new);
        END IF;
    END LOOP;

    -- consumer_offsets: a department's own offsets pass in WHEN.
    DROP TRIGGER IF EXISTS motcua_guard ON consumer_offsets;
    DROP TRIGGER IF EXISTS motcua_guard_update ON consumer_offsets;
    EXECUTE format('CREATE TRIGGER motcua_guard BEFORE INSERT ON consumer_offsets FOR EACH ROW '
                   'WHEN (current_setting(''is_superuser'') <> ''on'' AND NOT (%s)) '
                   'EXECUTE FUNCTION motcua_row_guard(''offsets'')', format(own_offsets, 'NEW', departments));
    EXECUTE format('CREATE TRIGGER motcua_guard_update BEFORE UPDATE ON consumer_offsets FOR EACH ROW '
                   'WHEN (current_setting(''is_superuser'') <> ''on'' AND NOT ((%s) AND (%s))) '
                   'EXECUTE FUNCTION motcua_row_guard(''offsets'')',
                   format(own_offsets, 'OLD', departments), format(own_offsets, 'NEW', departments));
END $$;

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_022;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_grant_roles_before_022();
    -- The layers before re-create the plain guards: split them again.
    PERFORM motcua_fast_guards();
END $$;
SELECT motcua_grant_roles();
-- It granted SELECT on whole tables again: take the outbox payloads back from the services' roles (013, 015).
SELECT motcua_protect_personal_data();

-- 3 -------------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION motcua_publish_guard() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    target text := CASE WHEN left(NEW.topic, 9) = 'dossiers.' THEN substring(NEW.topic from 10) END;
BEGIN
    -- A department's step task for the dossier it forwards to that department in this transaction (the worker's
    -- own rows): what motcua_may_publish accepts, checked without its layers.
    IF NEW.ce_type = 'motcua.dossier.step' AND current_user::text = motcua_department_role(NEW.source)
       AND NEW.source = ANY (motcua_departments()) AND target <> NEW.source AND target = ANY (motcua_departments())
       AND EXISTS (
           SELECT 1 FROM decisions
           WHERE dossier_id = NEW.key AND department = NEW.source AND outcome = 'forward' AND forward_to = target
             AND motcua_written_here(decisions.xmin))
    THEN
        RETURN NEW;
    END IF;
    IF NOT motcua_may_publish(NEW) THEN
        RAISE EXCEPTION 'permission denied: role % may not publish % on topic % (source %)', current_user,
            NEW.ce_type, NEW.topic, NEW.source
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'a department publishes its events, escalations, its own dead letters and the step tasks of '
                      || 'dossiers it forwards';
    END IF;
    RETURN NEW;
END $$;

-- 4 -------------------------------------------------------------------------------------------------------------
-- The same answer as 013's, in one pass: a task's repeat probe (a step the department already decided) runs only
-- when neither the receipt nor a forward vouches for it. (A left join, so that a repeat needs no dossiers row, as
-- before; a forward still needs one.)
CREATE OR REPLACE FUNCTION motcua_step_provenance(department text, ids text[], steps integer[], rounds integer[],
                                                  digests text[])
    RETURNS TABLE (task_index bigint) LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT
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
    SELECT t.i FROM unnest(ids, steps, rounds, digests) WITH ORDINALITY AS t(id, step, round, digest, i)
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
