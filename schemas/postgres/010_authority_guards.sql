-- Who may say what, in PostgreSQL (part of "proven authority"):
--
-- 1. A signature is written once. An official's signature (signed_by, signed_at, signed_outcome, signed_reason) on
--    a decision round, once recorded, cannot be changed or cleared by anyone, the schema owner included: a wrong
--    signature is answered by a later round, never by an edit. (Before this, a department role could rewrite its
--    own department's signatures: `UPDATE decisions SET signed_by = 'someone-else' …`.)
-- 2. A department speaks only where it may. A department role's outbox rows go to dossier.events, escalations, its
--    own dead-letter topic, or to the topic of the department it forwards a dossier to — a step task
--    (motcua.dossier.step) keyed by a dossier whose forward decision to that department it recorded. Any other
--    row (an official's command on another department's topic, a step on its own topic, a message to the intake)
--    is refused with 42501. (Before this, any row a worker's login inserted was published by the relay.)
--    The coordinator (reception, timer) keeps its rows: dossiers.<department> routings, the intake dead letters,
--    events and escalations. The schema owner and superusers are not restricted (migrations, repairs).
-- The checks fire for COPY too (triggers do; row-level security would refuse COPY).

CREATE FUNCTION motcua_signature_write_once() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'the signature of decision %/%/% is already recorded and cannot be changed', OLD.dossier_id,
        OLD.step, OLD.round
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a signature is write-once: a correction is a new round, decided and signed again';
END $$;

CREATE TRIGGER motcua_signature_write_once BEFORE UPDATE ON decisions FOR EACH ROW
    WHEN (OLD.signed_at IS NOT NULL
          AND ROW(NEW.signed_by, NEW.signed_at, NEW.signed_outcome, NEW.signed_reason)
              IS DISTINCT FROM ROW(OLD.signed_by, OLD.signed_at, OLD.signed_outcome, OLD.signed_reason))
    EXECUTE FUNCTION motcua_signature_write_once();

-- Whether the current user may put `r` (an outbox row) on its topic.
CREATE FUNCTION motcua_may_publish(r outbox) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
DECLARE
    d text;
    target text;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE') THEN
        RETURN true;
    END IF;
    IF r.topic IN ('dossier.events', 'escalations') THEN
        RETURN true;
    END IF;
    IF to_regrole('motcua_coordinator') IS NOT NULL AND pg_has_role(current_user, 'motcua_coordinator', 'USAGE')
       AND (r.source = 'reception' OR left(r.source, 11) = 'coordinator')
       AND (r.topic IN ('dossiers.intake.dlq', 'dossier.events.dlq')
            OR (r.ce_type = 'motcua.dossier.step' AND substring(r.topic from 10) = ANY (motcua_departments())
                AND left(r.topic, 9) = 'dossiers.'))
    THEN
        RETURN true;
    END IF;
    FOREACH d IN ARRAY motcua_departments() LOOP
        CONTINUE WHEN r.source IS DISTINCT FROM d;
        CONTINUE WHEN NOT (to_regrole(motcua_department_role(d)) IS NOT NULL
                           AND pg_has_role(current_user, motcua_department_role(d), 'USAGE'));
        IF r.topic = 'dossiers.' || d || '.dlq' THEN
            RETURN true;
        END IF;
        IF r.ce_type = 'motcua.dossier.step' AND left(r.topic, 9) = 'dossiers.' THEN
            target := substring(r.topic from 10);
            IF target <> d AND target = ANY (motcua_departments()) AND EXISTS (
                SELECT 1 FROM decisions
                WHERE dossier_id = r.key AND department = d AND outcome = 'forward' AND forward_to = target)
            THEN
                RETURN true;
            END IF;
        END IF;
    END LOOP;
    RETURN false;
END $$;

CREATE FUNCTION motcua_publish_guard() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT motcua_may_publish(NEW) THEN
        RAISE EXCEPTION 'permission denied: role % may not publish % on topic % (source %)', current_user,
            NEW.ce_type, NEW.topic, NEW.source
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'a department publishes its events, escalations, its own dead letters and the step tasks of '
                      || 'dossiers it forwards';
    END IF;
    RETURN NEW;
END $$;

-- Events and escalations (most rows) pass in WHEN without a function call.
CREATE TRIGGER motcua_publish_guard BEFORE INSERT OR UPDATE OF topic, ce_type, key, source ON outbox FOR EACH ROW
    WHEN (current_setting('is_superuser') <> 'on' AND NEW.topic NOT IN ('dossier.events', 'escalations'))
    EXECUTE FUNCTION motcua_publish_guard();
