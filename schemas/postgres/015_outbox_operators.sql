-- A relay no row can block (issue 19), part two.
--
-- 1. Order per key survives a parked row: the relays' reads hold back every later unsent row of the same topic and
--    key as a parked row (held rows are not written as parked: they are found by that anti-join, and listed by
--    `motcua outbox parked` as held behind it). The partial index makes the anti-join free while nothing is parked.
-- 2. Operators resolve a parked row with `motcua outbox retry|discard ID --reason …`: a retry clears parked_at (the
--    relay publishes the row again, and on success the rows held behind it follow); a discard sets discarded_at
--    (the row is never published; the rows held behind it follow). Both are recorded in outbox_actions: who (the
--    operator named, and the database role), when, why, and the reason the row had been parked.
ALTER TABLE outbox ADD COLUMN discarded_at timestamptz;
COMMENT ON COLUMN outbox.discarded_at IS 'when an operator gave a parked row up for good (outbox_actions says who and why)';

CREATE INDEX outbox_parked ON outbox (source, topic, key, id)
    WHERE parked_at IS NOT NULL AND sent_at IS NULL AND discarded_at IS NULL;

CREATE TABLE outbox_actions (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint NOT NULL,
    action      text NOT NULL CHECK (action IN ('retry', 'discard')),
    operator    text NOT NULL CHECK (btrim(operator) <> ''),
    db_role     text NOT NULL DEFAULT session_user,
    reason      text NOT NULL CHECK (btrim(reason) <> ''),
    park_reason text,
    acted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_actions_row ON outbox_actions (outbox_id);
COMMENT ON TABLE outbox_actions IS 'operators'' decisions on parked outbox rows: never updated or deleted';

-- 3. Offsets are never silently wrong. Beside each stored offset, the identity of the last message consumed (the one
--    at next_offset - 1: `sha256:<hex>` of its key, a zero byte and its value — not its ce_id, which consumers
--    that skip headers do not see). On
--    assignment and on an offset error the consumer reads that message again and compares: a partition that no
--    longer holds it (the broker restarted empty, the topic recreated and refilled past the stored offset, a
--    restore) stops loudly instead of skipping or misreading. NULL: not known (stored before this migration, or
--    set by an operator's reset), and only the broker's range is checked.
ALTER TABLE consumer_offsets ADD COLUMN last_message text;
COMMENT ON COLUMN consumer_offsets.last_message IS
    'identity of the message at next_offset - 1 (sha256: of key, 0, value); NULL when unknown';

-- Operators' resets of stored offsets (`motcua offsets reset … --confirm`): who, when, why, from what to what.
CREATE TABLE offset_resets (
    id               bigserial PRIMARY KEY,
    consumer_group   text NOT NULL,
    topic            text NOT NULL,
    partition        integer NOT NULL,
    previous_offset  bigint,
    previous_message text,
    new_offset       bigint NOT NULL,
    operator         text NOT NULL CHECK (btrim(operator) <> ''),
    db_role          text NOT NULL DEFAULT session_user,
    reason           text NOT NULL CHECK (btrim(reason) <> ''),
    reset_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE offset_resets IS 'operators'' resets of consumer offsets: never updated or deleted';

-- The services' roles write last_message with next_offset. (A name of this migration's own for the previous
-- function: other migrations may wrap motcua_grant_roles too.)
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_015;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_before_015();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT UPDATE (last_message) ON consumer_offsets TO %s, motcua_coordinator', workers);
END $$;
SELECT motcua_grant_roles();

-- 4. The relays read their unsent rows through motcua_outbox_unsent (migration 013: their roles may not read outbox
--    payloads, which hold applicants' data). This form also holds back the later rows of a parked row's topic and key
--    when asked to: the relay asks only while its source has parked rows, since the anti-join doubles a read's time.
CREATE FUNCTION motcua_outbox_unsent(source text, above bigint, max_rows integer, excluded bigint[],
                                     hold_parked_keys boolean)
    RETURNS TABLE (id bigint, event_id uuid, topic text, key text, ce_type text, payload bytea, headers jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF NOT motcua_may_relay(source) THEN
        RAISE EXCEPTION 'permission denied: role % may not relay the outbox rows of %', session_user, source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF hold_parked_keys THEN
        RETURN QUERY
        SELECT o.id, o.event_id, o.topic, o.key, o.ce_type, o.payload, o.headers FROM outbox o
        WHERE o.source = motcua_outbox_unsent.source AND o.sent_at IS NULL AND o.parked_at IS NULL
          AND o.id > above AND (excluded IS NULL OR o.id <> ALL (excluded))
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.source = o.source AND p.topic = o.topic AND p.key = o.key
                          AND p.id < o.id AND p.parked_at IS NOT NULL AND p.sent_at IS NULL AND p.discarded_at IS NULL)
        ORDER BY o.id LIMIT max_rows;
    ELSE
        RETURN QUERY
        SELECT o.id, o.event_id, o.topic, o.key, o.ce_type, o.payload, o.headers FROM outbox o
        WHERE o.source = motcua_outbox_unsent.source AND o.sent_at IS NULL AND o.parked_at IS NULL
          AND o.id > above AND (excluded IS NULL OR o.id <> ALL (excluded))
        ORDER BY o.id LIMIT max_rows;
    END IF;
END $$;

-- One unsent row of a source, unless parked or held behind a parked row of its key: what a relay publishes again,
-- row by row, after the broker refused a whole produce request.
CREATE FUNCTION motcua_outbox_row(source text, row_id bigint)
    RETURNS TABLE (id bigint, event_id uuid, topic text, key text, ce_type text, payload bytea, headers jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF NOT motcua_may_relay(source) THEN
        RAISE EXCEPTION 'permission denied: role % may not relay the outbox rows of %', session_user, source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT o.id, o.event_id, o.topic, o.key, o.ce_type, o.payload, o.headers FROM outbox o
    WHERE o.id = row_id AND o.source = motcua_outbox_row.source AND o.sent_at IS NULL AND o.parked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.source = o.source AND p.topic = o.topic AND p.key = o.key
                      AND p.id < o.id AND p.parked_at IS NOT NULL AND p.sent_at IS NULL AND p.discarded_at IS NULL);
END $$;

-- motcua_grant_roles() above grants SELECT on whole tables again: take the payloads back from the services' roles
-- (migration 013) — and from here on also let them see when a parked row was discarded and call the new forms.
-- Every later migration that calls motcua_grant_roles() calls motcua_protect_personal_data() after it.
ALTER FUNCTION motcua_protect_personal_data() RENAME TO motcua_protect_personal_data_before_015;
CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_protect_personal_data_before_015();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT SELECT (discarded_at) ON outbox TO %s, motcua_coordinator, motcua_auditor', workers);
    EXECUTE format('GRANT EXECUTE ON FUNCTION motcua_outbox_unsent(text, bigint, integer, bigint[], boolean), '
                   'motcua_outbox_row(text, bigint) TO %s, motcua_coordinator', workers);
END $$;
SELECT motcua_protect_personal_data();
