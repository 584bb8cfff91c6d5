-- Seed of the scorecard benchmark (run.sh): :n dossiers (default 100,000) received 1 June – 5 December 2026 with the
-- rows `motcua report --scorecard` reads, in the proportions of a busy City. Synthetic data only (no applicant).
--   every dossier: a `dossiers` row (3% refused at intake), its `dossier_status`, its overall deadline and 3–4
--   timeline events (received, assigned, prepared, decided); 20% a supplement pause (3% two: late by the second
--   request; 2% still paused), 2% withdrawn, 1% stopped; 3% a complaint, 25% of decided ones a rating, 20% a fee
--   paid, 30% of approvals a result file, 90% a portal record acknowledged.
\if :{?n}
\else
\set n 100000
\endif
SELECT setseed(0.766);
CREATE TEMP TABLE g AS
SELECT i, 'b' || i AS id,
       (ARRAY['2.001240', '1.001064', '1.000105', '1.010727', '2.002180', '2.000633', '2.000131', '2.000620'])
           [1 + floor(random() * 8)::int] AS procedure,
       timestamptz '2026-06-01 09:00+07' + random() * interval '187 days' AS received_at,
       random() AS r_status, random() AS r_pause, random() AS r_side, random() AS r_feedback, random() AS r_fee,
       5 + floor(random() * 20)::int AS limit_days, floor(random() * 35)::int AS took_days
FROM generate_series(1, :n) i;

INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status,
                      department, due_date, body, digitised, vneid_verified)
SELECT id, 'BENCH-' || i, procedure, (ARRAY['online', 'counter', 'post'])[1 + i % 3], '00004', 'citizen',
       received_at, received_at, CASE WHEN r_status < 0.03 THEN 'intake-refused' ELSE 'received' END, NULL,
       (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + limit_days, '{}',
       (ARRAY[true, false, NULL])[1 + i % 3], i % 2 = 0
FROM g;
DELETE FROM g WHERE r_status < 0.03;

-- Pauses of the overall deadline (step -1): 20% one, 3% of them a second; 2% still open.
INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at, working_days)
SELECT id, -1, received_at + interval '2 days',
       CASE WHEN r_pause < 0.02 THEN NULL ELSE received_at + interval '5 days' END,
       CASE WHEN r_pause < 0.02 THEN NULL ELSE 3 END
FROM g WHERE r_pause < 0.20;
INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at, working_days)
SELECT id, -1, received_at + interval '8 days', received_at + interval '10 days', 2
FROM g WHERE r_pause >= 0.02 AND r_pause < 0.05;

-- Status: decided (approve 9 in 10, refuse 1 in 10) `took_days` after receipt when that is before 7 December.
INSERT INTO dossier_status (dossier_id, code, procedure, status, received_at, due_date, outcome, decided_at, updated_at)
SELECT id, 'BENCH-' || i, procedure,
       CASE WHEN r_side < 0.02 THEN 'withdrawn' WHEN r_side < 0.03 THEN 'stopped'
            WHEN received_at + took_days * interval '1 day' < timestamptz '2026-12-07 00:00+07' THEN 'decided'
            ELSE 'in-review' END,
       received_at, (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + limit_days,
       CASE WHEN r_side >= 0.03 AND received_at + took_days * interval '1 day' < timestamptz '2026-12-07 00:00+07'
            THEN CASE WHEN i % 10 = 0 THEN 'refuse' ELSE 'approve' END END,
       CASE WHEN r_side >= 0.03 AND received_at + took_days * interval '1 day' < timestamptz '2026-12-07 00:00+07'
            THEN received_at + took_days * interval '1 day' END,
       received_at
FROM g;
INSERT INTO deadlines (dossier_id, step, kind, procedure, opened_at, due_date, due_at, status)
SELECT id, -1, 'overall', procedure, received_at,
       (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + limit_days
           + CASE WHEN r_pause >= 0.02 AND r_pause < 0.20 THEN 3 ELSE 0 END
           + CASE WHEN r_pause >= 0.02 AND r_pause < 0.05 THEN 2 ELSE 0 END,
       received_at + (limit_days + 3) * interval '1 day',
       CASE WHEN r_pause < 0.02 THEN 'paused' ELSE 'open' END
FROM g;

-- The timeline: received, assigned, prepared; supplement requests with the pauses; decided, withdrawn or stopped.
INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
SELECT id, gen_random_uuid(), t.type, 0, received_at + t.after
FROM g CROSS JOIN (VALUES ('received', interval '0'), ('assigned', interval '1 second'),
                          ('prepared', interval '1 day')) AS t(type, after);
INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
SELECT dossier_id, gen_random_uuid(), 'supplement-requested', 0, started_at FROM deadline_pauses;
INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
SELECT dossier_id, gen_random_uuid(), 'decided', 0, decided_at FROM dossier_status WHERE decided_at IS NOT NULL;
INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
SELECT id, gen_random_uuid(), CASE WHEN r_side < 0.02 THEN 'withdrawn' ELSE 'stopped' END, 0,
       received_at + interval '4 days'
FROM g WHERE r_side < 0.03;

-- Feedback, fees, result files, portal acknowledgements.
INSERT INTO complaints (complaint_id, dossier_id, department, category, reference, channel, recorded_at)
SELECT gen_random_uuid(), id, 'culture', 'late', 'KN-' || i, 'portal', received_at + interval '6 days'
FROM g WHERE r_feedback < 0.03;
INSERT INTO ratings (dossier_id, department, timeliness, attitude, guidance, result, channel, command_id, rated_at)
SELECT s.dossier_id, 'culture', 1 + (g.i % 5), 1 + (g.i / 5 % 5), 5, 4, 'portal', gen_random_uuid(),
       s.decided_at + interval '1 day'
FROM dossier_status s JOIN g ON g.id = s.dossier_id
WHERE s.decided_at IS NOT NULL AND g.r_feedback >= 0.03 AND g.r_feedback < 0.28;
INSERT INTO fee_payments (dossier_id, department, step, procedure, amount_vnd, channel, receipt_number, principal,
                          command_id, paid_at, source_topic, source_partition, source_offset)
SELECT id, 'industry-trade', 0, procedure, 2200000, (ARRAY['national-portal', 'provincial-gateway', 'desk'])[1 + i % 3],
       'R-' || i, 'payment-gateway', gen_random_uuid(), received_at + interval '1 day', 'dossiers.industry-trade', 0, i
FROM g WHERE r_fee < 0.20;
INSERT INTO result_files (dossier_id, department, step, document_id, sha256, link, signed_by, recorded_at)
SELECT dossier_id, 'culture', 0, 'GP-' || dossier_id, encode(sha256(dossier_id::bytea), 'hex'),
       'https://ketqua.example.vn/' || dossier_id, 'director', decided_at
FROM dossier_status WHERE outcome = 'approve' AND random() < 0.3;
INSERT INTO portal_sync_records (record_id, dossier_id, status_code, status_at)
SELECT gen_random_uuid(), id, 2, received_at FROM g WHERE i % 10 <> 0;
INSERT INTO portal_sync_acks (record_id, dossier_id, status_code, accepted, acknowledged_at, source_topic,
                              source_partition, source_offset)
SELECT record_id, dossier_id, 2, true, status_at + interval '1 minute', 'portal.sync.ack', 0, id
FROM portal_sync_records;
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM dossiers) AS dossiers, (SELECT count(*) FROM dossier_timeline) AS timeline,
       (SELECT count(*) FROM deadline_pauses) AS pauses, (SELECT count(*) FROM ratings) AS ratings;
