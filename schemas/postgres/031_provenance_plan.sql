-- The worker's per-batch provenance lookup in index probes, whatever the batch (issue 18: the worker's throughput).
--
-- Measured (pg_stat_statements over a WorkerBench round as a real department login, 40,000 tasks in batches of 500;
-- BENCHMARKS.md): motcua_step_provenance took 162 µs of PostgreSQL's time per dossier, more than half of the worker's
-- 292 — ~80 ms a batch. Its query runs in PL/pgSQL, whose plan cache makes custom plans from the arrays of the call:
-- with 500 ids the planner chose a hash join over a sequential scan of the whole `dossiers` table and hashed subplans
-- scanning `decisions` (every forward, every decision of the department), rebuilt for every batch, so a batch cost
-- grew with the tables rather than with the batch. A generic plan (the arrays unknown) probes the primary keys of
-- `dossiers` and `decisions` per task: 3–12 ms a batch of 500 in the same database.
--
-- Nothing else changes: the same function, the same answer, the same grants; only how it is planned.
ALTER FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[])
    SET plan_cache_mode = force_generic_plan;

-- The catalogue versions reception recorded on a batch's dossiers, read the same way. The worker's plain
-- `SELECT … FROM dossiers WHERE id = ANY($1)` was 31–46 µs a dossier: row-level security adds the department's policy
-- (`department = d OR EXISTS (a decision of d on the dossier)`), and a custom plan for 500 ids hashed every decision of
-- the department for that EXISTS, each batch. This function is the same read with the caller's rights (the same
-- policy, so the same rows: those the caller may see), planned without the ids' values (an SQL function's body is
-- not inlined when it has a SET clause), which probes `decisions` by key for the few rows of other departments.
CREATE FUNCTION motcua_recorded_catalogue_versions(ids text[])
    RETURNS TABLE (id text, catalogue_version text) LANGUAGE sql STABLE
    SET plan_cache_mode = force_generic_plan
AS $$
    SELECT d.id, d.catalogue_version FROM dossiers AS d WHERE d.id = ANY (ids)
$$;
COMMENT ON FUNCTION motcua_recorded_catalogue_versions(text[]) IS
    'the catalogue version recorded on each of ids the caller may see (its row-level security applies), by key';
