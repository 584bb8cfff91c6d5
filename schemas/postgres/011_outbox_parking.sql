-- Never stuck: an outbox row the broker refuses for good (too large, malformed, an illegal topic name) is parked
-- by its relay — parked_at and park_reason set — and the rows after it are published. Before this, the relay
-- retried such a row forever and every later row of its source waited behind it. A parked row stays for an
-- operator (it is neither sent nor deleted); the relays' reads skip it.
ALTER TABLE outbox ADD COLUMN parked_at timestamptz, ADD COLUMN park_reason text;
COMMENT ON COLUMN outbox.parked_at IS 'when the relay gave the row up: the broker refuses it for good (park_reason)';

-- The relays run as the services' roles: they may set the two columns, as they set sent_at.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_010;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
DECLARE
    workers text;
BEGIN
    PERFORM motcua_grant_roles_010();
    SELECT string_agg(quote_ident(motcua_department_role(x)), ', ') INTO workers FROM unnest(motcua_departments()) AS x;
    EXECUTE format('GRANT UPDATE (parked_at, park_reason) ON outbox TO %s, motcua_coordinator', workers);
END $$;
SELECT motcua_grant_roles();
