-- What a decision row costs PostgreSQL to write (issue 4's throughput target). Measured on the benchmark's rows
-- (COPY of 23,163 decisions, 2 cores, PostgreSQL 15): 81 µs a row before this migration, of which
--   * ~20 µs the two foreign keys to rule_versions and delegation_versions: a row trigger each, queued per row and
--     run as one `SELECT … FOR KEY SHARE` per row at the end of the statement;
--   * ~13 µs pglz compressing the explanation (its jsonb is ~1.6 KB, which pushes the row past the 2 KB TOAST
--     threshold; compressed to ~900 bytes it saved little).
-- The guarantees stay; only their cost changes:
--   * Every version a decision cites must exist: checked once per statement (COPY included) over its transition
--     table, in one join, by an AFTER … FOR EACH STATEMENT trigger — the same error code as the foreign key
--     (23503, foreign_key_violation) and a message naming the missing version.
--   * A cited version can never disappear: rule and delegation versions are append-only (their texts are what
--     decisions were derived from and what the audit replay re-derives them with); UPDATE and DELETE of their rows
--     are refused. The foreign key allowed deleting an uncited version; nothing here did that.
--   * Explanations are stored inline, uncompressed, up to a row of ~8 KB (toast_tuple_target); larger ones are
--     still compressed and moved out of line as before.

ALTER TABLE decisions DROP CONSTRAINT IF EXISTS decisions_rule_version_fkey;
ALTER TABLE decisions DROP CONSTRAINT IF EXISTS decisions_delegation_version_fkey;
ALTER TABLE decisions SET (toast_tuple_target = 8160);

CREATE FUNCTION motcua_decisions_cite_known_versions() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    missing text;
BEGIN
    SELECT n.rule_version INTO missing
    FROM (SELECT DISTINCT rule_version FROM cited) AS n
    WHERE NOT EXISTS (SELECT 1 FROM rule_versions AS r WHERE r.version = n.rule_version)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'decisions cite rule version % which is not in rule_versions', missing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'store the rule set''s canonical text in rule_versions first (workers do this on connect)';
    END IF;
    SELECT n.delegation_version INTO missing
    FROM (SELECT DISTINCT delegation_version FROM cited WHERE delegation_version IS NOT NULL) AS n
    WHERE NOT EXISTS (SELECT 1 FROM delegation_versions AS d WHERE d.version = n.delegation_version)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'decisions cite delegation version % which is not in delegation_versions', missing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'store the delegation snapshot in delegation_versions first (workers do this on connect)';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER motcua_cite_known_versions_insert AFTER INSERT ON decisions
    REFERENCING NEW TABLE AS cited FOR EACH STATEMENT EXECUTE FUNCTION motcua_decisions_cite_known_versions();
CREATE TRIGGER motcua_cite_known_versions_update AFTER UPDATE ON decisions
    REFERENCING NEW TABLE AS cited FOR EACH STATEMENT EXECUTE FUNCTION motcua_decisions_cite_known_versions();

CREATE FUNCTION motcua_versions_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: decisions cite its rows and the audit replay re-derives them from it', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'a changed rule set or delegation is a new version: insert it under its own version';
END $$;

CREATE TRIGGER motcua_append_only BEFORE UPDATE OR DELETE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION motcua_versions_append_only();
CREATE TRIGGER motcua_append_only BEFORE UPDATE OR DELETE ON delegation_versions
    FOR EACH ROW EXECUTE FUNCTION motcua_versions_append_only();
