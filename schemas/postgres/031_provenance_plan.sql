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
