-- MotCua database roles: one per department worker, one for the coordinator, a read-only auditor.
--
-- Roles are cluster-wide (several databases of one cluster share them), created NOLOGIN when missing. A
-- deployment gives each service's role LOGIN and a password out of band, and the service connects as that role:
--   ALTER ROLE motcua_worker_labour LOGIN PASSWORD '…';   -- from the secret store, never from a file in git
-- or through a login role that acts as it from its first statement (BYPASSRLS is not inherited: the coordinator's
-- login role needs this):
--   CREATE ROLE labour_svc LOGIN PASSWORD '…' IN ROLE motcua_worker_labour;
--   ALTER ROLE labour_svc SET role = 'motcua_worker_labour';
-- Grants, guards and policies are per database (this migration, and `motcua_grant_roles()` again after any later
-- migration that adds a table).
--
-- What each role may write, row by row:
--   * a department worker: its own decisions (department), rule versions (department), withdrawals (department),
--     consumer offsets (topic dossiers.<department>, group motcua.<department>[.*]) and outbox rows (source =
--     its department); it reads and updates (body only) only the dossiers of its department — those assigned to
--     it or that it has decided a step of. dossiers.body holds the applicant's personal data.
--   * the coordinator (reception, status projection, deadline timer): dossiers (insert), codes, deadlines,
--     pauses, escalations, apologies, status, timeline, processed events, its consumer offsets (topics
--     dossiers.intake and dossier.events) and its outbox rows (sources reception, coordinator*); never decisions.
--   * the auditor: reads everything, writes nothing.
--
-- Why guards and not only row-level security: the workers and reception write decisions, outbox rows and dossiers
-- with COPY FROM, which PostgreSQL refuses on tables with row-level security enabled ("COPY FROM not supported
-- with row-level security"). So the write rules of decisions, outbox, consumer_offsets, rule_versions and
-- withdrawals are row triggers (they fire for COPY too) raising SQLSTATE 42501; reading personal data is
-- restricted by row-level security on dossiers, which only statements touch (the coordinator, whose reception
-- COPYs dossiers, holds BYPASSRLS: it writes every dossier anyway, and only dossiers have policies).
-- Superusers and members of a table's owner (the role that runs the migrations) are not restricted.

-- Roles --------------------------------------------------------------------------------------------------------
CREATE FUNCTION motcua_departments() RETURNS text[] LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['industry-trade', 'environment', 'labour', 'culture', 'industrial-zones'] $$;

-- The role of a department: industry-trade -> motcua_worker_industry_trade.
CREATE FUNCTION motcua_department_role(department text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT 'motcua_worker_' || replace(department, '-', '_') $$;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY (SELECT array_agg(motcua_department_role(d)) FROM unnest(motcua_departments()) AS d)
                          || ARRAY['motcua_coordinator', 'motcua_auditor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database's migration created it at the same moment
            END;
        END IF;
    END LOOP;
    -- Reception COPYs dossiers, a table with row-level security: the coordinator must bypass it.
    IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_coordinator') THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                ALTER ROLE motcua_coordinator BYPASSRLS;
            EXCEPTION WHEN OTHERS THEN
                IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'motcua_coordinator') THEN RAISE; END IF;
            END;
        ELSE
            RAISE WARNING 'motcua_coordinator lacks BYPASSRLS; reception cannot COPY dossiers until a superuser runs: ALTER ROLE motcua_coordinator BYPASSRLS';
        END IF;
    END IF;
END $$;

-- Row guards ---------------------------------------------------------------------------------------------------
-- Whether the current user may write `r` (a row of a guarded table, as jsonb) under `kind`:
--   department: r.department is a department whose role the user has;
--   source:     r.source is such a department, or the user has the coordinator role and r.source is reception
--               or coordinator*;
--   offsets:    r.topic is dossiers.<d> and r.consumer_group motcua.<d>[.*] for such a department d, or the user
--               has the coordinator role and r.topic is dossiers.intake or dossier.events.
CREATE FUNCTION motcua_may_write(kind text, r jsonb) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
DECLARE
    d text;
    mine boolean;
BEGIN
    FOREACH d IN ARRAY motcua_departments() LOOP
        mine := to_regrole(motcua_department_role(d)) IS NOT NULL
                AND pg_has_role(current_user, motcua_department_role(d), 'USAGE');
        CONTINUE WHEN NOT mine;
        IF kind = 'department' AND r->>'department' = d THEN RETURN true; END IF;
        IF kind = 'source' AND r->>'source' = d THEN RETURN true; END IF;
        IF kind = 'offsets' AND r->>'topic' = 'dossiers.' || d
           AND (r->>'consumer_group' = 'motcua.' || d OR left(r->>'consumer_group', length(d) + 8) = 'motcua.' || d || '.')
        THEN
            RETURN true;
        END IF;
    END LOOP;
    IF to_regrole('motcua_coordinator') IS NOT NULL AND pg_has_role(current_user, 'motcua_coordinator', 'USAGE') THEN
        IF kind = 'source' AND (r->>'source' = 'reception' OR left(r->>'source', 11) = 'coordinator') THEN
            RETURN true;
        END IF;
        IF kind = 'offsets' AND r->>'topic' IN ('dossiers.intake', 'dossier.events') THEN RETURN true; END IF;
    END IF;
    RETURN false;
END $$;

-- Trigger: refuses (42501) a row the current user may not write, before and after an update. TG_ARGV[0] is the
-- kind of motcua_may_write. The triggers' WHEN clauses let the common case (a superuser, or a department role
-- writing its own row) through without calling this.
CREATE FUNCTION motcua_row_guard() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT motcua_may_write(TG_ARGV[0], to_jsonb(OLD)) THEN
        RAISE EXCEPTION 'permission denied: role % may not update this row of % (%)', current_user, TG_TABLE_NAME,
            TG_ARGV[0] USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT motcua_may_write(TG_ARGV[0], to_jsonb(NEW)) THEN
        RAISE EXCEPTION 'permission denied: role % may not write this row of % (%)', current_user, TG_TABLE_NAME,
            TG_ARGV[0] USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

-- Grants, guards and policies of this database, for the tables that exist. Idempotent: a later migration that
-- adds a table adds its lines here (CREATE OR REPLACE) and calls it.
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    schema_name text := current_schema();
    workers text;
    coordinator text := 'motcua_coordinator';
    d text;
    role text;
    owned text;
    has_withdrawals boolean := to_regclass('withdrawals') IS NOT NULL;
    has_changes boolean := to_regclass('delegation_changes') IS NOT NULL;
BEGIN
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s, motcua_coordinator, motcua_auditor', schema_name, workers);

    -- Department workers.
    EXECUTE format('GRANT SELECT, UPDATE (body, updated_at) ON dossiers TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE (signed_by, signed_at, signed_outcome, signed_reason) ON decisions TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT ON rule_versions, delegation_versions TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE (next_offset, updated_at) ON consumer_offsets TO %s', workers);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE (sent_at) ON outbox TO %s', workers);
    EXECUTE format('GRANT USAGE ON SEQUENCE outbox_id_seq TO %s', workers);
    IF has_withdrawals THEN
        EXECUTE format('GRANT SELECT, INSERT ON withdrawals TO %s', workers);
    END IF;
    IF has_changes THEN
        -- Workers read the head FOR SHARE, which needs an UPDATE grant; the guard below refuses any real update.
        EXECUTE format('GRANT SELECT ON delegation_changes TO %s', workers);
        EXECUTE format('GRANT SELECT, UPDATE (seq) ON delegation_change_head TO %s', workers);
    END IF;

    -- Coordinator: reception, status projection, deadline timer, apologies. Never decisions; never dossiers.body.
    GRANT SELECT (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status,
                  department, step, due_date, updated_at), INSERT ON dossiers TO motcua_coordinator;
    GRANT SELECT, INSERT, UPDATE ON dossier_code_sequences TO motcua_coordinator;
    GRANT SELECT, INSERT, UPDATE (next_offset, updated_at) ON consumer_offsets TO motcua_coordinator;
    GRANT SELECT, INSERT, UPDATE (sent_at) ON outbox TO motcua_coordinator;
    GRANT USAGE ON SEQUENCE outbox_id_seq, escalations_id_seq, dossier_timeline_id_seq TO motcua_coordinator;
    GRANT SELECT, INSERT ON processed_events TO motcua_coordinator;
    GRANT SELECT, INSERT, UPDATE, DELETE ON deadlines TO motcua_coordinator;
    GRANT SELECT, INSERT, UPDATE ON deadline_pauses, escalations, dossier_status TO motcua_coordinator;
    GRANT SELECT, INSERT ON apologies, dossier_timeline TO motcua_coordinator;
    GRANT SELECT ON on_time_statistics TO motcua_coordinator;
    IF has_withdrawals THEN
        GRANT SELECT ON withdrawals TO motcua_coordinator;
    END IF;

    -- Auditor: read-only, everything (also what later migrations create as the same owner).
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO motcua_auditor', schema_name);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO motcua_auditor', schema_name);

    -- Row guards (fire for COPY too). Fast paths in WHEN: superusers, and a department role on its own rows.
    DROP TRIGGER IF EXISTS motcua_guard_insert ON decisions;
    CREATE TRIGGER motcua_guard_insert BEFORE INSERT ON decisions FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on'
              AND current_user::text IS DISTINCT FROM motcua_department_role(NEW.department))
        EXECUTE FUNCTION motcua_row_guard('department');
    DROP TRIGGER IF EXISTS motcua_guard_update ON decisions;
    CREATE TRIGGER motcua_guard_update BEFORE UPDATE ON decisions FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on'
              AND (current_user::text IS DISTINCT FROM motcua_department_role(OLD.department)
                   OR current_user::text IS DISTINCT FROM motcua_department_role(NEW.department)))
        EXECUTE FUNCTION motcua_row_guard('department');
    DROP TRIGGER IF EXISTS motcua_guard_insert ON outbox;
    CREATE TRIGGER motcua_guard_insert BEFORE INSERT ON outbox FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on'
              AND current_user::text IS DISTINCT FROM motcua_department_role(NEW.source))
        EXECUTE FUNCTION motcua_row_guard('source');
    DROP TRIGGER IF EXISTS motcua_guard_update ON outbox;
    CREATE TRIGGER motcua_guard_update BEFORE UPDATE ON outbox FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on'
              AND (current_user::text IS DISTINCT FROM motcua_department_role(OLD.source)
                   OR current_user::text IS DISTINCT FROM motcua_department_role(NEW.source)))
        EXECUTE FUNCTION motcua_row_guard('source');
    DROP TRIGGER IF EXISTS motcua_guard ON consumer_offsets;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON consumer_offsets FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('offsets');
    DROP TRIGGER IF EXISTS motcua_guard ON rule_versions;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON rule_versions FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
    IF has_withdrawals THEN
        DROP TRIGGER IF EXISTS motcua_guard ON withdrawals;
        CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON withdrawals FOR EACH ROW
            WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
    END IF;
    IF has_changes THEN
        -- Only the table's owner (motcua delegations, run as the migration role) moves the head.
        DROP TRIGGER IF EXISTS motcua_guard ON delegation_change_head;
        CREATE TRIGGER motcua_guard BEFORE UPDATE ON delegation_change_head FOR EACH ROW
            WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('owner-only');
    END IF;

    -- Row-level security on dossiers: a department reads and updates only its dossiers (assigned to it, or with
    -- a decision of its own: the later steps of interconnected procedures); the auditor reads all.
    ALTER TABLE dossiers ENABLE ROW LEVEL SECURITY;
    FOREACH d IN ARRAY motcua_departments() LOOP
        role := motcua_department_role(d);
        owned := format('department = %L OR EXISTS (SELECT 1 FROM decisions AS own WHERE own.dossier_id = dossiers.id '
                        'AND own.department = %L)', d, d);
        EXECUTE format('DROP POLICY IF EXISTS %I ON dossiers', role || '_read');
        EXECUTE format('CREATE POLICY %I ON dossiers FOR SELECT TO %I USING (%s)', role || '_read', role, owned);
        EXECUTE format('DROP POLICY IF EXISTS %I ON dossiers', role || '_update');
        EXECUTE format('CREATE POLICY %I ON dossiers FOR UPDATE TO %I USING (%s) WITH CHECK (%s)',
                       role || '_update', role, owned, owned);
    END LOOP;
    DROP POLICY IF EXISTS motcua_auditor_read ON dossiers;
    CREATE POLICY motcua_auditor_read ON dossiers FOR SELECT TO motcua_auditor USING (true);
    -- Statements of the coordinator (should it lack BYPASSRLS): every dossier.
    DROP POLICY IF EXISTS motcua_coordinator_all ON dossiers;
    CREATE POLICY motcua_coordinator_all ON dossiers FOR ALL TO motcua_coordinator USING (true) WITH CHECK (true);
END $$;

SELECT motcua_grant_roles();
