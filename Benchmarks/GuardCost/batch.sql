-- One batch of a department worker (industrial-zones, 500 step tasks) as DepartmentWorker.write makes it, in
-- INSERT … SELECT form (the guards fire for COPY and INSERT alike). :b numbers the batch (dossiers d<b*500…>).
SELECT nextval('blk') AS b \gset
BEGIN;
SELECT seq FROM delegation_change_head WHERE singleton FOR SHARE;
SELECT id, catalogue_version FROM dossiers WHERE id = ANY(ARRAY(SELECT 'd' || (:b * 500 + g) FROM generate_series(0, 499) g));
SELECT task_index FROM motcua_step_provenance('industrial-zones', ARRAY(SELECT 'd' || (:b * 500 + g) FROM generate_series(0, 499) g), array_fill(0, ARRAY[500]), array_fill(0, ARRAY[500]), ARRAY(SELECT encode(sha256(('d' || (:b * 500 + g))::bytea), 'hex') FROM generate_series(0, 499) g));
SELECT dossier_id FROM withdrawals WHERE dossier_id = ANY(ARRAY(SELECT 'd' || (:b * 500 + g) FROM generate_series(0, 499) g));
SAVEPOINT decisions_copy;
INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_id, rule_version, forward_to, decided_at, source_topic, source_partition, source_offset, explanation_id)
SELECT 'd' || (:b * 500 + g), 0, 0, 'industrial-zones', '1.001', CASE WHEN g % 10 = 0 THEN 'forward' ELSE 'approve' END, CASE WHEN g % 10 IN (1, 2) THEN 'official' ELSE 'auto' END, 'r1', 'rv1', CASE WHEN g % 10 = 0 THEN 'environment' END, now(), 'dossiers.industrial-zones', g % 6, :b * 500 + g, 1 FROM generate_series(0, 499) g;
SELECT nextval('stage_turns') AS turn FROM generate_series(1, 100);
WITH input AS (SELECT 'd' || (:b * 500 + g) AS dossier_id, 0 AS step, 0 AS round, 'div' AS division, '1.001' AS procedure, 'examine specialist 6,check head-of-division 2,sign director 2' AS route, 0 AS position, 'off-1' AS assignee, now() AS entered_at, now() + interval '6 days' AS due_at, 'examine' AS stage FROM generate_series(0, 499) g WHERE g % 10 IN (1, 2)), inserted AS (INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position, stage, role, assignee, entered_at, due_at, handovers) SELECT dossier_id, step, round, 'industrial-zones', division, procedure, route, cardinality(string_to_array(route, ',')), position, stage, split_part(split_part(route, ',', position + 1), ' ', 2), assignee, entered_at, due_at, 1 FROM input ON CONFLICT (dossier_id, step, round) DO NOTHING RETURNING dossier_id, step, round), slip AS (INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, to_stage, to_official, at) SELECT i.dossier_id, i.step, i.round, 1, 'industrial-zones', i.division, 'assign', i.stage, i.assignee, i.entered_at FROM input i JOIN inserted s ON s.dossier_id = i.dossier_id AND s.step = i.step AND s.round = i.round) SELECT count(*) FROM inserted;
INSERT INTO outbox (source, event_id, topic, key, ce_type, payload, headers)
SELECT 'industrial-zones', gen_random_uuid(), 'dossier.events', 'd' || (:b * 500 + g), 'motcua.dossier.event', convert_to(repeat('x', 400), 'UTF8'), NULL::jsonb FROM generate_series(0, 499) g
UNION ALL
SELECT 'industrial-zones', gen_random_uuid(), 'dossiers.environment', 'd' || (:b * 500 + g), 'motcua.dossier.step', convert_to(repeat('y', 600), 'UTF8'), NULL::jsonb FROM generate_series(0, 499, 10) g;
UPDATE consumer_offsets SET next_offset = next_offset + 83, updated_at = now() WHERE consumer_group = 'motcua.industrial-zones' AND topic = 'dossiers.industrial-zones' AND partition = ANY('{0,1,2,3,4,5}');
COMMIT;
