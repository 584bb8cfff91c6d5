#!/usr/bin/env bash
# The cost of `motcua report --scorecard` (issue 21: the 766 progress query as the dossiers stood at the period's end,
# and the other scorecard reads) on a database of N dossiers generated with SQL (seed.sql), beside the same command
# on an empty database of the same schema in the same run (the command's fixed cost: starting, loading deploy/,
# connecting), then the plans PostgreSQL chose, each statement's actual time (auto_explain, one more run).
#
#   Benchmarks/Scorecard/run.sh MOTCUA [N] [ROUNDS]
#
# MOTCUA: the motcua executable. N: dossiers (default 100,000). ROUNDS: timed runs of each command (default 5).
# BASELINE_MOTCUA (optional): another motcua (say, of the code before a change), timed on the same database in the
# same rounds, alternated with MOTCUA.
# Needs DATABASE_URL of a local cluster where the URL's user is a superuser (tools/dev-up's), and PG_SERVER_LOG, that
# cluster's log file (the plans are read from it). Creates the databases motcua_scorecardbench (seeded once, kept for
# reruns of the same N) and motcua_scorecardbench_empty. Run from the repository root (deploy/, schemas/postgres).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
motcua="${1:?the motcua executable}"
n="${2:-100000}"
rounds="${3:-5}"
: "${DATABASE_URL:?DATABASE_URL of the cluster}"
: "${PG_SERVER_LOG:?PG_SERVER_LOG, the log file of the cluster}"
base="${DATABASE_URL%/*}"
full="$base/motcua_scorecardbench"
empty="$base/motcua_scorecardbench_empty"
psql_on() { local url="$1"; shift; psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }

for db in motcua_scorecardbench motcua_scorecardbench_empty; do
    if ! psql_on "$base/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        psql_on "$base/postgres" -c "CREATE DATABASE $db"
    fi
    DATABASE_URL="$base/$db" "$motcua" migrate --directory schemas/postgres >/dev/null
done
seeded="$(psql_on "$full" -Atc "SELECT count(*) FROM dossiers")"
if [ "$seeded" != "$n" ]; then
    echo "seeding $n dossiers (seed.sql)…"
    psql_on "$full" -c "TRUNCATE dossiers, dossier_status, deadlines, deadline_pauses, dossier_timeline, complaints, \
ratings, fee_payments, result_files, portal_sync_acks, portal_sync_records"
    start=$(date +%s.%N)
    psql_on "$full" -v n="$n" -f "$here/seed.sql"
    echo "seeded in $(echo "$(date +%s.%N) - $start" | bc) s"
fi

# The period of the status page's usual question (November), and the whole history (no --from: every dossier).
periods=("--from 2026-11-01 --to 2026-11-30" "")
timed() {  # timed <database url> <arguments…>: wall milliseconds of one run (BINARY: the motcua to run)
    local url="$1"; shift
    local start end
    start=$(date +%s%N)
    DATABASE_URL="$url" "${BINARY:-$motcua}" report --scorecard --json "$@" >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "motcua report --scorecard, $n dossiers, $rounds rounds each, alternated with the empty database; load $(cut -d' ' -f1-3 /proc/loadavg)"
for period in "${periods[@]}"; do
    full_ms=()
    empty_ms=()
    baseline_ms=()
    for _ in $(seq 1 "$rounds"); do
        # shellcheck disable=SC2086  # the period's words are separate arguments
        empty_ms+=("$(timed "$empty" $period)")
        # shellcheck disable=SC2086
        full_ms+=("$(timed "$full" $period)")
        if [ -n "${BASELINE_MOTCUA:-}" ]; then
            # shellcheck disable=SC2086
            baseline_ms+=("$(BINARY="$BASELINE_MOTCUA" timed "$full" $period)")
        fi
    done
    echo "  ${period:-whole history}: $n dossiers median $(echo "${full_ms[*]}" | median) ms (${full_ms[*]}); empty database median $(echo "${empty_ms[*]}" | median) ms (${empty_ms[*]})"
    if [ -n "${BASELINE_MOTCUA:-}" ]; then
        echo "    baseline $BASELINE_MOTCUA, $n dossiers: median $(echo "${baseline_ms[*]}" | median) ms (${baseline_ms[*]})"
    fi
done

# One more run of each period with auto_explain (actual times, buffers): the plans land in the server's log. Set on
# the database (the Postgres module's own `options` take the place of PGOPTIONS), and reset whatever happens.
trap 'psql_on "$base/postgres" -c "ALTER DATABASE motcua_scorecardbench RESET ALL" >/dev/null 2>&1 || true' EXIT
for setting in "session_preload_libraries = 'auto_explain'" "auto_explain.log_min_duration = 0" \
    "auto_explain.log_analyze = on" "auto_explain.log_buffers = on" "auto_explain.log_timing = on"; do
    psql_on "$base/postgres" -c "ALTER DATABASE motcua_scorecardbench SET $setting"
done
mark="scorecard-bench-$(date +%s%N)"
psql_on "$full" -c "DO \$\$ BEGIN RAISE LOG '%', '$mark'; END \$\$" >/dev/null
for period in "${periods[@]}"; do
    # shellcheck disable=SC2086
    DATABASE_URL="$full" "$motcua" report --scorecard --json $period >/dev/null
done
psql_on "$base/postgres" -c "ALTER DATABASE motcua_scorecardbench RESET ALL"
echo "plans (auto_explain, analyze on: times include its instrumentation):"
sed -n "/$mark/,\$p" "$PG_SERVER_LOG" | grep -v "$mark" | sed 's/^/  /'
