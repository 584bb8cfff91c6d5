-- The officials' pages (issue 20): each sign-in assertion (`motcua officials sign-in`) is accepted once. The
-- coordinator records its nonce when it accepts it; a second use of the same assertion finds the nonce and is
-- refused. Rows name the official and when; they hold nothing about applicants.
CREATE TABLE official_sign_ins (
    nonce        text PRIMARY KEY CHECK (nonce ~ '^[0-9a-f]{64}$'),
    official     text NOT NULL,
    signed_in_at timestamptz NOT NULL DEFAULT now(),
    -- The assertion's own expiry (wall clock): rows past it can be deleted by the schema owner at leisure.
    expires_at   timestamptz NOT NULL
);

-- The coordinator (which serves the pages) records and reads sign-ins; the auditor reads them.
ALTER FUNCTION motcua_grant_roles() RENAME TO motcua_grant_roles_before_026;
CREATE FUNCTION motcua_grant_roles() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_grant_roles_before_026();
    GRANT SELECT, INSERT ON official_sign_ins TO motcua_coordinator;
    GRANT SELECT ON official_sign_ins TO motcua_auditor;
END $$;
SELECT motcua_grant_roles();
SELECT motcua_protect_personal_data();
