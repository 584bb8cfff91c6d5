-- A department may dead-letter a step task again (found by the benchmark run of 2026-12-07, reproduced end to end).
--
-- 017 taught motcua_may_publish that a department's `motcua.dossier.step` row on a `dossiers.*` topic is a forward
-- and answered that branch alone. A dead letter of a step task keeps the task's ce_type and goes to
-- `dossiers.<department>.dlq`, whose "target" (`<department>.dlq`) is no department: refused (42501). The worker's
-- own dead-letter fallback was refused the same way, so a single step task without provenance (one produced with
-- kcat, say) stalled its partition for good, as a department's login; tests running the worker as the owner did not
-- see it. Now that branch answers only for a target that is a department; every other row falls through to the
-- rules before 017, which let a department publish its own dead letters and nothing else.
CREATE OR REPLACE FUNCTION motcua_may_publish(r outbox) RETURNS boolean LANGUAGE plpgsql STABLE
AS $$
DECLARE
    target text;
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE') THEN
        RETURN true;
    END IF;
    IF r.source = 'reception' THEN
        RETURN motcua_is_reception(current_user)
            AND (r.topic IN ('dossier.events', 'dossiers.intake.dlq')
                 OR (r.ce_type = 'motcua.dossier.step' AND left(r.topic, 9) = 'dossiers.'
                     AND substring(r.topic from 10) = ANY (motcua_departments())));
    END IF;
    IF r.ce_type = 'motcua.dossier.step' AND left(r.topic, 9) = 'dossiers.' AND r.source = ANY (motcua_departments())
       AND substring(r.topic from 10) = ANY (motcua_departments())
    THEN
        target := substring(r.topic from 10);
        RETURN target <> r.source
            AND to_regrole(motcua_department_role(r.source)) IS NOT NULL
            AND pg_has_role(current_user, motcua_department_role(r.source), 'USAGE')
            AND EXISTS (
                SELECT 1 FROM decisions
                WHERE dossier_id = r.key AND department = r.source AND outcome = 'forward' AND forward_to = target
                  AND motcua_written_here(decisions.xmin));
    END IF;
    RETURN motcua_may_publish_before_017(r);
END $$;
