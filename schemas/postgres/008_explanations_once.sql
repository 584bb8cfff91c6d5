-- Explanations stored once, decisions citing them (issue 4's throughput target).
--
-- Decisions of one procedure that take the same path through the delegation check, the documents check and the
-- rule table have the same explanation: the benchmark's 40,000 decisions have 41 distinct ones, ~1.4 KB of JSON
-- each. Stored inline, PostgreSQL parsed and wrote that jsonb once per decision: a COPY of those 40,000 rows took
-- ~55 µs a row with it and ~18 µs a row with a bigint in its place (2 cores, PostgreSQL 15).
--
-- Now, as for rule and delegation versions, each explanation's text is stored once in `explanations`, keyed by the
-- SHA-256 of its normalised jsonb text, and a decision cites it by `explanation_id`:
--   * `motcua_explanation_ids(jsonb[])` returns the ids of the given explanations in order, inserting those not yet
--     stored; workers call it once per batch, inside the batch's transaction, for the batch's distinct explanations.
--   * Every explanation a decision cites must exist: checked once per statement over its transition table, with
--     the rule and delegation versions (23503, naming the missing id).
--   * `explanations` is append-only, as the version tables: decisions cite its rows.
--   * `decisions_explained` is `decisions` with each row's explanation (jsonb) beside it, for people and reports.
-- Existing decisions are moved over: their explanations stored once, their rows pointed at them, the column dropped.

CREATE TABLE explanations (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest bytea NOT NULL UNIQUE,
    body   jsonb NOT NULL,
    CHECK (digest = sha256(convert_to(body::text, 'UTF8')))
);
COMMENT ON TABLE explanations IS
    'Why decisions came out as they did, each distinct explanation once (decisions.explanation_id); append-only';

CREATE FUNCTION motcua_explanation_ids(bodies jsonb[]) RETURNS bigint[] LANGUAGE plpgsql
AS $$
DECLARE
    ids bigint[] := '{}';
    body jsonb;
    key bytea;
    found_id bigint;
BEGIN
    FOREACH body IN ARRAY bodies LOOP
        key := sha256(convert_to(body::text, 'UTF8'));
        SELECT id INTO found_id FROM explanations WHERE digest = key;
        IF NOT FOUND THEN
            -- A concurrent insert of the same text wins or loses the conflict; either way the row is there after.
            INSERT INTO explanations (digest, body) VALUES (key, body)
                ON CONFLICT (digest) DO NOTHING RETURNING id INTO found_id;
            IF found_id IS NULL THEN
                SELECT id INTO STRICT found_id FROM explanations WHERE digest = key;
            END IF;
        END IF;
        ids := ids || found_id;
    END LOOP;
    RETURN ids;
END $$;

CREATE TRIGGER motcua_append_only BEFORE UPDATE OR DELETE ON explanations
    FOR EACH ROW EXECUTE FUNCTION motcua_versions_append_only();

-- Existing decisions: each distinct explanation once, every row pointed at it.
INSERT INTO explanations (digest, body)
SELECT DISTINCT ON (digest) digest, explanation
FROM (SELECT sha256(convert_to(explanation::text, 'UTF8')) AS digest, explanation FROM decisions) AS existing
ORDER BY digest;
ALTER TABLE decisions ADD COLUMN explanation_id bigint;
UPDATE decisions AS d SET explanation_id = e.id
FROM explanations AS e WHERE e.digest = sha256(convert_to(d.explanation::text, 'UTF8'));
ALTER TABLE decisions ALTER COLUMN explanation_id SET NOT NULL;
ALTER TABLE decisions DROP COLUMN explanation;

-- Beside 007's check of the cited versions, once per statement over its transition table.
CREATE FUNCTION motcua_decisions_cite_known_explanations() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT n.explanation_id INTO missing
    FROM (SELECT DISTINCT explanation_id FROM cited) AS n
    WHERE NOT EXISTS (SELECT 1 FROM explanations AS e WHERE e.id = n.explanation_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'decisions cite explanation % which is not in explanations', missing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'store the explanation first: SELECT motcua_explanation_ids(ARRAY[...]::jsonb[]) returns its id';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER motcua_cite_known_explanations_insert AFTER INSERT ON decisions
    REFERENCING NEW TABLE AS cited FOR EACH STATEMENT EXECUTE FUNCTION motcua_decisions_cite_known_explanations();
CREATE TRIGGER motcua_cite_known_explanations_update AFTER UPDATE ON decisions
    REFERENCING NEW TABLE AS cited FOR EACH STATEMENT EXECUTE FUNCTION motcua_decisions_cite_known_explanations();

CREATE VIEW decisions_explained AS
SELECT d.*, e.body AS explanation
FROM decisions AS d JOIN explanations AS e ON e.id = d.explanation_id;
COMMENT ON VIEW decisions_explained IS 'decisions, each with its explanation (jsonb)';

-- Roles: workers store and read explanations; the auditor reads them (and the view) through the default
-- privileges of 003; every service reads schema_migrations. The grants of 003 (and later migrations) stay in motcua_grant_roles_007(); this one adds to it.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_007;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_007();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT ON explanations TO %s', workers);
    EXECUTE format('GRANT SELECT ON decisions_explained TO %s, motcua_auditor', workers);
    -- Services check on connect that the schema is as new as they need (Processing's DatabaseSchema).
    EXECUTE format('GRANT SELECT ON schema_migrations TO %s, motcua_coordinator, motcua_auditor', workers);
END $$;
SELECT motcua_grant_roles();
