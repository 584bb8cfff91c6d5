-- Issue 21: two optional intake fields, additive to the intake contract (schemas/intake.schema.json), that the
-- submitting channel may send: `digitised` (the dossier's documents were digitised at reception) and `vneidVerified`
-- (the applicant's identity was verified with VNeID when the dossier was submitted). Reception stores them as sent
-- (NULL: the channel did not say); the national portal record carries them and the scorecard's digitisation part
-- reads `digitised` (docs/scorecard.md). Neither is personal data: a yes/no about the dossier, never the identity.
ALTER TABLE dossiers ADD COLUMN digitised boolean, ADD COLUMN vneid_verified boolean;

-- The auditor's and the coordinator's column grants on dossiers (013, 021) name their columns: add the new ones (the
-- coordinator's status projection puts them on the portal records).
ALTER FUNCTION motcua_protect_personal_data() RENAME TO motcua_protect_personal_data_before_030;
CREATE FUNCTION motcua_protect_personal_data() RETURNS void LANGUAGE plpgsql SET client_min_messages = warning
AS $$
BEGIN
    PERFORM motcua_protect_personal_data_before_030();
    GRANT SELECT (digitised, vneid_verified) ON dossiers TO motcua_auditor, motcua_coordinator;
END $$;
SELECT motcua_protect_personal_data();
