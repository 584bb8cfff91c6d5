-- The provenance lookup probes by key however small the tables were when a worker's session first planned it
-- (issue 18; found by WorkerBench's latency part, 2026-12-07).
--
-- Since 031 the function's query has a generic plan, made once per session and cached by PL/pgSQL. A worker that
-- started on nearly empty tables (a new deployment, a department's first day, the benchmark's truncated database)
-- planned it when `dossiers` held ~200 rows: a hash join over a sequential scan of `dossiers` and of `decisions`
-- (auto_explain). The plan stays until an automatic ANALYZE invalidates it, so every batch then read the whole of
-- both tables as they grew: 6.4 ms a call for batches of ~13 tasks at 1,000 dossiers/s (pg_stat_statements), a
-- fifth of a core, and the latency's p99 at 124–277 ms against the 100 ms target.
--
-- A batch is at most a few thousand tasks, and the tables grow without bound: index probes per task are the right
-- plan at every size. Hash and merge joins and sequential scans are turned off for this function's statements only,
-- so the plan made on an empty table is the probing one (a test reads the session's own scans: RoleTests).
-- Nothing else changes: the same function, the same answer, the same grants.
ALTER FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[])
    SET enable_hashjoin = off;
ALTER FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[])
    SET enable_mergejoin = off;
ALTER FUNCTION motcua_step_provenance(text, text[], integer[], integer[], text[])
    SET enable_seqscan = off;
