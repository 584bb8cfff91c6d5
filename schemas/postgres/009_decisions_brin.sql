-- Decisions by period: a BRIN index on decided_at instead of the btree on (department, decided_at).
--
-- Every worker batch inserts its decisions at the end of the table with decided_at = the batch's instant, so the
-- table is laid out in decided_at order and a BRIN index (one summary per 128 pages) finds a period's rows as well
-- as the btree did for the reports' and the CLI's period queries, which then filter by department. Maintaining the
-- btree was ~3 µs of server CPU per decision row (a third of the table's index cost; `\copy` of the benchmark's
-- 40,000 binary rows: ~575 ms with it, ~420 ms without, ~445 ms with the BRIN index) on the workers' hot path.
-- The officials' queue keeps its own partial index (decisions_awaiting_signature).

DROP INDEX decisions_department_decided;
CREATE INDEX decisions_decided_brin ON decisions USING brin (decided_at);
