-- Proven authority (issue 18), in PostgreSQL, what was left:
--
-- 1. Reception has a role of its own, motcua_reception. Until now reception ran as the coordinator, whose role then
--    had to bypass row-level security (reception COPYs dossiers) and could write dossiers, codes and rows as source
--    'reception'. Now:
--      * motcua_reception inserts dossiers (it reads their ids, never their bodies), reserves dossier codes, writes
--        its outbox rows as source 'reception' (step tasks to department topics, dossier.events, its dead letters
--        on dossiers.intake.dlq), advances its offsets on dossiers.intake, and relays its own rows. It holds
--        BYPASSRLS (COPY into dossiers, a table with row-level security, needs it) and nothing of decisions,
--        signatures, deadlines or the projection.
--      * the coordinator (status projection, deadline timer, pages) loses all of that and its BYPASSRLS: it no
--        longer inserts dossiers or codes, writes or relays rows of source 'reception', or stores offsets on
--        dossiers.intake. Department roles never could.
--    A deployment gives motcua_reception LOGIN and a password as for the other roles (003), and runs reception with
--    that login: `coordinator --reception-only` with DATABASE_URL of motcua_reception, or the coordinator with
--    RECEPTION_DATABASE_URL for its reception part (docs/operators.md).
-- 2. A department publishes a step task to another department only for a dossier whose forward decision to that
--    department it writes in the same transaction (before: any dossier it had ever forwarded, so a worker's login
--    could route a second, forged step task later). "The same transaction" is the decision row's xmin: a row
--    visible to this transaction whose inserting (sub)transaction is still in progress can only be this
--    transaction's own (the worker COPYs decisions inside a savepoint, so xmin is a subtransaction's id, not
--    pg_current_xact_id()). The check runs only for step-task rows (the trigger's WHEN lets events and escalations
--    through), in the guard's one EXISTS per row, so the worker's batches keep their round trips.
--
-- The previous functions are wrapped, not rewritten, so that what other migrations added to them stays.

-- Role ----------------------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_reception') THEN
        BEGIN
            CREATE ROLE motcua_reception NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database's migration created it at the same moment
        END;
    END IF;
    -- Roles are cluster-wide: another database's migration may alter the same role at the same moment ("tuple
    -- concurrently updated"); that is an error only if the role did not end up as wanted.
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_reception') THEN
            BEGIN
                ALTER ROLE motcua_reception BYPASSRLS;
            EXCEPTION WHEN OTHERS THEN
                IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_reception') THEN RAISE; END IF;
            END;
        END IF;
        -- The coordinator no longer COPYs dossiers: its statements see every dossier through its policy, with the
        -- columns it is granted. (A database migrated from 003 afresh gives it BYPASSRLS again until its own 017;
        -- without INSERT on dossiers it has no use.)
        IF (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_coordinator') THEN
            BEGIN
                ALTER ROLE motcua_coordinator NOBYPASSRLS;
            EXCEPTION WHEN OTHERS THEN
                NULL; -- altered concurrently (by this migration or 003 elsewhere): either way it cannot insert dossiers
            END;
        END IF;
    ELSIF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_reception') THEN
        RAISE WARNING 'motcua_reception lacks BYPASSRLS; reception cannot COPY dossiers until a superuser runs: '
            'ALTER ROLE motcua_reception BYPASSRLS (and may run ALTER ROLE motcua_coordinator NOBYPASSRLS)';
    END IF;
END $$;

-- Who may write and relay rows as reception ---------------------------------------------------------------------
CREATE FUNCTION motcua_is_reception(who name) RETURNS boolean LANGUAGE sql STABLE
AS $$ SELECT to_regrole('motcua_reception') IS NOT NULL AND pg_has_role(who, 'motcua_reception', 'USAGE') $$;

ALTER FUNCTION motcua_may_write(text, jsonb) RENAME TO motcua_may_write_before_017;
CREATE FUNCTION motcua_may_write(kind text, r jsonb) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF kind = 'source' AND r->>'source' = 'reception' THEN RETURN motcua_is_reception(current_user); END IF;
    IF kind = 'offsets' AND r->>'topic' = 'dossiers.intake' THEN RETURN motcua_is_reception(current_user); END IF;
    RETURN motcua_may_write_before_017(kind, r);
END $$;

ALTER FUNCTION motcua_may_relay(text) RENAME TO motcua_may_relay_before_017;
CREATE FUNCTION motcua_may_relay(source text) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF source = 'reception' THEN
        RETURN motcua_is_reception(session_user)
            OR pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE');
    END IF;
    RETURN motcua_may_relay_before_017(source);
END $$;

-- Whether a row of `row_xmin` was written by the current transaction (or one of its subtransactions). The row was
-- visible to the caller, so an inserting transaction still in progress is this one. The 32-bit xmin is placed at its
-- distance after the current top transaction's id (subtransactions get later ids; a row of an earlier transaction is
-- "before" it and not ours). pg_xact_status is asked only below the snapshot's xmax, where it cannot meet an id "in
-- the future" (a raw xmin kept by a frozen row from 2^31 transactions ago): at or above xmax a visible row's inserter
-- is still running, so it is this transaction.
-- (PL/pgSQL: ~5 µs a call against ~33 µs for the same as an SQL function, which is not inlined here.)
CREATE FUNCTION motcua_written_here(row_xmin xid) RETURNS boolean LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    top bigint := pg_current_xact_id()::text::bigint;
    after bigint := ((row_xmin::text::bigint - top) % 4294967296 + 4294967296) % 4294967296;
BEGIN
    IF after >= 2147483648 THEN RETURN false; END IF;  -- before this transaction began
    IF (top + after)::text::xid8 >= pg_snapshot_xmax(pg_current_snapshot()) THEN RETURN true; END IF;
    RETURN pg_xact_status((top + after)::text::xid8) = 'in progress';
END $$;

-- What may be published: reception's rows only by reception; a department's step task only with the forward
-- decision of this transaction.
ALTER FUNCTION motcua_may_publish(outbox) RENAME TO motcua_may_publish_before_017;
CREATE FUNCTION motcua_may_publish(r outbox) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
DECLARE
    target text;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE') THEN
        RETURN true;
    END IF;
    IF r.source = 'reception' THEN
        RETURN motcua_is_reception(current_user)
            AND (r.topic IN ('dossier.events', 'dossiers.intake.dlq')
                 OR (r.ce_type = 'motcua.dossier.step' AND left(r.topic, 9) = 'dossiers.'
                     AND substring(r.topic from 10) = ANY (motcua_departments())));
    END IF;
    IF r.ce_type = 'motcua.dossier.step' AND left(r.topic, 9) = 'dossiers.' AND r.source = ANY (motcua_departments())
    THEN
        target := substring(r.topic from 10);
        RETURN target <> r.source AND target = ANY (motcua_departments())
            AND to_regrole(motcua_department_role(r.source)) IS NOT NULL
            AND pg_has_role(current_user, motcua_department_role(r.source), 'USAGE')
            AND EXISTS (
                SELECT 1 FROM decisions
                WHERE dossier_id = r.key AND department = r.source AND outcome = 'forward' AND forward_to = target
                  AND motcua_written_here(decisions.xmin));
    END IF;
    RETURN motcua_may_publish_before_017(r);
END $$;

-- Grants --------------------------------------------------------------------------------------------------------
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_017;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    schema_name text := current_schema();
BEGIN
    PERFORM motcua_grant_roles_before_017();
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO motcua_reception', schema_name);
    -- Reception: dossiers (ids to skip repeats; insert), codes, its offsets and its outbox rows.
    GRANT SELECT (id), INSERT ON dossiers TO motcua_reception;
    GRANT SELECT, INSERT, UPDATE ON dossier_code_sequences TO motcua_reception;
    GRANT SELECT, INSERT, UPDATE (next_offset, updated_at, last_message) ON consumer_offsets TO motcua_reception;
    GRANT INSERT, UPDATE (sent_at, parked_at, park_reason) ON outbox TO motcua_reception;
    GRANT USAGE ON SEQUENCE outbox_id_seq TO motcua_reception;
    GRANT SELECT ON schema_migrations TO motcua_reception;
    -- Its statements (not COPY) pass row-level security on dossiers too, should it lack BYPASSRLS.
    DROP POLICY IF EXISTS motcua_reception_all ON dossiers;
    CREATE POLICY motcua_reception_all ON dossiers FOR ALL TO motcua_reception USING (true) WITH CHECK (true);
    -- The coordinator is no longer reception.
    REVOKE INSERT ON dossiers FROM motcua_coordinator;
    REVOKE INSERT, UPDATE ON dossier_code_sequences FROM motcua_coordinator;
END $$;
SELECT motcua_grant_roles();

-- Reception reads outbox rows without their payloads, and relays its own through the functions of 013 and 015.
ALTER FUNCTION motcua_protect_personal_data() RENAME TO motcua_protect_personal_data_before_017;
CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_protect_personal_data_before_017();
    REVOKE SELECT ON outbox FROM motcua_reception;
    GRANT SELECT (id, source, event_id, topic, key, ce_type, created_at, sent_at, parked_at, park_reason, discarded_at)
        ON outbox TO motcua_reception;
    GRANT EXECUTE ON FUNCTION motcua_outbox_unsent(text, bigint, integer, bigint[]),
        motcua_outbox_unsent(text, bigint, integer, bigint[], boolean), motcua_outbox_row(text, bigint)
        TO motcua_reception;
END $$;
SELECT motcua_protect_personal_data();
