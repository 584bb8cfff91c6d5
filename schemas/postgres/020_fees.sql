-- Issue 21, fees: the payment confirmations of registered payment gateways. A dossier of a fee-bearing procedure
-- (catalogue `fee`) waits at "financial obligation requested" (national status 6) once the rules approved it; the
-- department worker that holds it records the gateway's signed confirmation here, in the batch transaction of the
-- command, and the approval then takes effect. No personal data: the dossier, the amount, where and how it was paid.
CREATE TABLE fee_payments (
    dossier_id       text PRIMARY KEY,
    department       text NOT NULL,
    step             integer NOT NULL,
    procedure        text NOT NULL,
    amount_vnd       bigint NOT NULL CHECK (amount_vnd > 0),
    -- national-portal and provincial-gateway are "paid online" (the portal's codes 1 and 2); desk is not.
    channel          text NOT NULL CHECK (channel IN ('national-portal', 'provincial-gateway', 'desk')),
    receipt_number   text NOT NULL CHECK (receipt_number ~ '^[A-Za-z0-9._/-]{1,64}$'),
    -- The registered principal (a payment gateway's service key, or a desk official) that signed the confirmation.
    principal        text NOT NULL,
    command_id       uuid NOT NULL,
    paid_at          timestamptz NOT NULL,
    source_topic     text NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL,
    -- A gateway's receipt pays one dossier once.
    UNIQUE (channel, receipt_number)
);
CREATE INDEX fee_payments_paid_at ON fee_payments (paid_at);

-- A worker writes its own department's rows (the same guard as withdrawals); the coordinator reads them for the
-- reports; the auditor reads them (its default privileges cover new tables).
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_020;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_020();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT ON fee_payments TO %s', workers);
    GRANT SELECT ON fee_payments TO motcua_coordinator;
    GRANT SELECT ON fee_payments TO motcua_auditor;
    DROP TRIGGER IF EXISTS motcua_guard ON fee_payments;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON fee_payments FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
END $$;
SELECT motcua_grant_roles();
-- It granted SELECT on whole tables again: take the outbox payloads back from the services' roles (013, 015).
SELECT motcua_protect_personal_data();

-- Issue 21, electronic results: the result file of an approval (the signed licence as a document), recorded by the
-- department worker with the official's signature (the sign command's `result`). Counted by the scorecard's
-- electronic-results part of digitisation. No personal data: an id, a digest, a link to the document store.
CREATE TABLE result_files (
    dossier_id   text PRIMARY KEY,
    department   text NOT NULL,
    step         integer NOT NULL,
    document_id  text NOT NULL CHECK (document_id ~ '^[A-Za-z0-9._/:-]{1,128}$'),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    link         text NOT NULL CHECK (link ~ '^https://' AND octet_length(link) <= 512),
    signed_by    text NOT NULL,
    recorded_at  timestamptz NOT NULL
);

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_020_results;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_020_results();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT ON result_files TO %s', workers);
    GRANT SELECT ON result_files TO motcua_coordinator, motcua_auditor;
    DROP TRIGGER IF EXISTS motcua_guard ON result_files;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON result_files FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();

-- Issue 21, satisfaction: the applicant's rating of a decided dossier (once, 1–5 per criterion) and complaints about
-- a dossier's handling (their category and the channel's own reference, never the complainant's words), recorded
-- by the department worker from a channel's signed command.
CREATE TABLE ratings (
    dossier_id  text PRIMARY KEY,
    department  text NOT NULL,
    timeliness  smallint NOT NULL CHECK (timeliness BETWEEN 1 AND 5),
    attitude    smallint NOT NULL CHECK (attitude BETWEEN 1 AND 5),
    guidance    smallint NOT NULL CHECK (guidance BETWEEN 1 AND 5),
    result      smallint NOT NULL CHECK (result BETWEEN 1 AND 5),
    -- The registered channel (the portal's service key, a desk official) that took and signed it.
    channel     text NOT NULL,
    command_id  uuid NOT NULL,
    rated_at    timestamptz NOT NULL
);
CREATE TABLE complaints (
    complaint_id uuid PRIMARY KEY,
    dossier_id   text NOT NULL,
    department   text NOT NULL,
    category     text NOT NULL CHECK (category IN ('late', 'attitude', 'fees', 'result', 'other')),
    reference    text NOT NULL CHECK (reference ~ '^[A-Za-z0-9._/-]{1,64}$'),
    channel      text NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX complaints_dossier ON complaints (dossier_id);

ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_020_feedback;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_020_feedback();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT, INSERT ON ratings, complaints TO %s', workers);
    GRANT SELECT ON ratings, complaints TO motcua_coordinator, motcua_auditor;
    DROP TRIGGER IF EXISTS motcua_guard ON ratings;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON ratings FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
    DROP TRIGGER IF EXISTS motcua_guard ON complaints;
    CREATE TRIGGER motcua_guard BEFORE INSERT OR UPDATE ON complaints FOR EACH ROW
        WHEN (current_setting('is_superuser') <> 'on') EXECUTE FUNCTION motcua_row_guard('department');
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();

-- Issue 21, contact: the applicant's chosen channel and contact for notifications (the intake's optional `contact`).
-- Personal data, stored apart from the dossier: reception (its own role since 017) inserts it and cannot read it
-- back; no department, no coordinator, no auditor reads it; the notifier role — the citizens' notification gateway,
-- outside MotCua — reads it only through `notification_contacts` (dossier, code, channel, address). Never on a topic.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_notifier') THEN
        BEGIN
            CREATE ROLE motcua_notifier NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database's migration created it at the same moment
        END;
    END IF;
END $$;

CREATE TABLE applicant_contacts (
    dossier_id  text PRIMARY KEY,
    channel     text NOT NULL CHECK (channel IN ('sms', 'email', 'zalo', 'post')),
    address     text NOT NULL CHECK (octet_length(address) BETWEEN 1 AND 256),
    recorded_at timestamptz NOT NULL
);

CREATE VIEW notification_contacts AS
    SELECT c.dossier_id, d.code, c.channel, c.address
    FROM applicant_contacts c JOIN dossiers d ON d.id = c.dossier_id;

-- After every motcua_grant_roles() (which gives the auditor every table): the contacts to the notifier's view only.
ALTER FUNCTION motcua_protect_personal_data() RENAME TO motcua_protect_personal_data_before_020;
CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
    schema_name text := current_schema();
BEGIN
    PERFORM motcua_protect_personal_data_before_020();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('REVOKE ALL ON applicant_contacts, notification_contacts FROM PUBLIC, %s, motcua_coordinator, '
                   'motcua_auditor, motcua_notifier, motcua_reception', workers);
    GRANT INSERT ON applicant_contacts TO motcua_reception;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO motcua_notifier', schema_name);
    GRANT SELECT ON notification_contacts TO motcua_notifier;
END $$;
SELECT motcua_protect_personal_data();
