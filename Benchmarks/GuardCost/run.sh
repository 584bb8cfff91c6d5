#!/usr/bin/env bash
# The PostgreSQL CPU of a department worker's batch transaction as a real worker login against the same batch as the
# owner (a superuser, as the raw C baseline of WorkerBench connects), per statement, per dossier.
#
#   Benchmarks/GuardCost/run.sh DATABASE [ROUNDS] [BATCHES]
#
# DATABASE: a migrated database of a local cluster (trust authentication; PGHOST/PGPORT say where; the script runs
# psql as `postgres` and reads /proc/<backend>/schedstat, so it runs on the database's machine, as root or postgres).
# seed.sql is applied once (a login `iz_login` in motcua_worker_industrial_zones, 1,000,000 received dossiers of
# industrial-zones, offsets); batch.sql is the worker's transaction for 500 step tasks (the statements of
# DepartmentWorker.write as INSERT … SELECT: a forward for 1 in 10, a decision prepared for officials — with its
# stage and slip line — for 2 in 10). Rounds alternate owner and login; each prints backend CPU per statement.
# CPU time, not wall time: the figures hold on a busy machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
db="${1:?database name}"
rounds="${2:-3}"
batches="${3:-40}"
export PGDATABASE="$db"
if ! psql -U postgres -Atc "SELECT 1 FROM pg_roles WHERE rolname = 'iz_login'" | grep -q 1 \
    || ! psql -U postgres -Atc "SELECT to_regclass('blk') IS NOT NULL" | grep -q t; then
    psql -U postgres -q -v ON_ERROR_STOP=1 -f "$here/seed.sql" >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
for round in $(seq 1 "$rounds"); do
    for user in postgres iz_login; do
        psql -U postgres -qc "TRUNCATE decisions, outbox, stages, stage_handovers" 2>&1 | grep -v NOTICE || true
        psql -U postgres -qc "CHECKPOINT"
        python3 "$here/trace.py" script "$batches" "$here/batch.sql" "$work/trace.$user.$round" > "$work/script.sql"
        psql -U "$user" -v ON_ERROR_STOP=1 -f "$work/script.sql"
        echo "== round $round, $user"
        python3 "$here/trace.py" sum "$work/trace.$user.$round" 500
    done
done
