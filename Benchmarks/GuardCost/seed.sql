-- Seed of the guard-cost benchmark (run.sh): a worker login, received dossiers, offsets. Synthetic data only.
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'iz_login') THEN CREATE ROLE iz_login LOGIN IN ROLE motcua_worker_industrial_zones; END IF; END $$;
ALTER ROLE iz_login SET role = 'motcua_worker_industrial_zones';
INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv1', 'industrial-zones', 'x');
SELECT motcua_explanation_ids(ARRAY['{"a":1}'::jsonb]);
INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, department, body, received_sha256, body_sha256)
SELECT 'd' || n, 'C-' || n, '1.001', 'online', '00001', 'enterprise', now(), now(), 'received', 'industrial-zones', '{"applicant":{"id":"x"}}',
       sha256(('d' || n)::bytea), sha256(('d' || n)::bytea) FROM generate_series(0, 999999) n;
INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) SELECT 'motcua.industrial-zones', 'dossiers.industrial-zones', p, 0 FROM generate_series(0, 5) p;
CREATE SEQUENCE blk;
GRANT USAGE ON SEQUENCE blk TO motcua_worker_industrial_zones;
VACUUM ANALYZE;
