-- Re-applies the roles' grants, guards and policies (003_roles.sql) to the tables 004 and 005 created after it:
-- workers read delegation_changes and the head (FOR SHARE) and write their own withdrawals; the coordinator reads
-- withdrawals; the auditor reads all. A migration that adds a table extends motcua_grant_roles() and calls it.
SELECT motcua_grant_roles();
