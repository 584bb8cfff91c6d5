# The system as deployed, sourced by tools/bench for `tools/bench system` (uses its RELEASE, BENCH_DEV, say, run,
# start_bench_broker, DATABASE_URL). Reception, the five department workers and the coordinator (release builds,
# separate processes) on a fresh benchmark devbroker and a database of their own on the tools/dev-up cluster
# (default durability).
#
# 1. warm-up: 200 dossiers through everything (consumer groups joined, caches warm), not timed;
# 2. load: SYSTEM_N dossiers (default 20,000) produced at once (`motcua simulate dossiers --rate 0`); the times from
#    the first produced message until all are received (reception's offsets on dossiers.intake), decided (every
#    worker's offsets at the end of its department topic) and projected (the projection's offsets at the end of
#    dossier.events); each stage's rate; CPU seconds and peak RSS of each process and the CPU of PostgreSQL;
# 3. catch-up: the coordinator's projection stopped while SYSTEM_N more dossiers flow through reception (run on its
#    own, --reception-only) and the workers, then started: the time until its projection is at the end of
#    dossier.events and until its timer starts firing (it waits for exactly that).
#
# SYSTEM_BASELINE_COORDINATOR=<path to a release coordinator> runs steps 1–2 once more with that coordinator (e.g.
# one built from main) on a fresh devbroker and database, for a same-run before/after of the projection.
# Offsets = message counts: on a fresh devbroker every topic starts at offset 0 and has no control records.

system_departments=(industry-trade environment labour culture industrial-zones)
system_pids=()
system_names=()

system_psql() { psql "$SYSTEM_URL" -XAtq -c "$1"; }

system_start() {  # system_start <name> <binary> <args...>: a service process of the run, logs in BENCH_DEV
    local name="$1"
    shift
    KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" DATABASE_URL="$SYSTEM_URL" nohup "$@" --rules "$ROOT/deploy" --log-level warning \
        >"$BENCH_DEV/system-$name.log" 2>&1 </dev/null &
    system_pids+=("$!")
    system_names+=("$name")
}

system_stop_all() {
    local pid
    for pid in "${system_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${system_pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    system_pids=()
    system_names=()
}

# Messages on a topic (outbox rows sent to it) and the next offsets a group stored for it, summed over partitions.
system_counts() {  # prints: intake_received dept_tasks dept_consumed events events_projected
    system_psql "
        SELECT (SELECT COALESCE(sum(next_offset), 0) FROM consumer_offsets
                WHERE consumer_group = 'motcua.reception' AND topic = 'dossiers.intake'),
               (SELECT count(*) FROM outbox WHERE topic LIKE 'dossiers.%' AND topic <> 'dossiers.intake'
                  AND ce_type <> 'dead-letter'),
               (SELECT COALESCE(sum(next_offset), 0) FROM consumer_offsets
                WHERE consumer_group LIKE 'motcua.%' AND consumer_group NOT IN ('motcua.reception', 'motcua.coordinator')
                  AND topic LIKE 'dossiers.%'),
               (SELECT count(*) FROM outbox WHERE topic = 'dossier.events'),
               (SELECT COALESCE(sum(next_offset), 0) FROM consumer_offsets
                WHERE consumer_group = 'motcua.coordinator' AND topic = 'dossier.events')" | tr '|' ' '
}

system_cpu() {  # system_cpu <pid>: user+system CPU seconds of a process (and of its threads)
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
system_rss() {  # system_rss <pid>: peak RSS in MiB
    awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0
}
system_pg_cpu() {  # CPU seconds of the PostgreSQL cluster's processes (live backends included)
    local postmaster total=0 pid
    postmaster="$(head -1 "$DEV/pg/data/postmaster.pid")"
    for pid in $postmaster $(pgrep -P "$postmaster"); do
        total="$(awk -v t="$total" -v c="$(system_cpu "$pid")" 'BEGIN { print t + c }')"
    done
    echo "$total"
}

# system_wait <target received> <deadline s>: polls every 0.2 s; sets t_received t_decided t_projected (seconds since
# t0), the stage being complete when its consumers are at the end of what was produced for them.
system_wait() {
    local target="$1" deadline="$2" now counts received tasks consumed events projected
    t_received="" t_decided="" t_projected=""
    while :; do
        now="$(date +%s.%N)"
        local elapsed
        elapsed="$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')"
        read -r received tasks consumed events projected <<<"$(system_counts)"
        if [ -z "$t_received" ] && [ "$received" -ge "$target" ]; then t_received="$elapsed"; fi
        if [ -n "$t_received" ] && [ -z "$t_decided" ] && [ "$consumed" -ge "$tasks" ]; then t_decided="$elapsed"; fi
        if [ -n "$t_decided" ] && [ -z "$t_projected" ] && [ "$projected" -ge "$events" ]; then t_projected="$elapsed"; fi
        [ -n "$t_projected" ] && { system_events="$events"; return 0; }
        if awk -v e="$elapsed" -v d="$deadline" 'BEGIN { exit !(e > d) }'; then
            say "  timed out after ${deadline}s: received $received/$target, tasks consumed $consumed/$tasks, events projected $projected/$events"
            return 1
        fi
        sleep 0.2
    done
}

system_produce() {  # system_produce <count> <seed>
    KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" "$RELEASE/motcua" simulate dossiers --count "$1" --seed "$2" --rate 0 \
        --rules "$ROOT/deploy" >/dev/null
}

# system_round <label> <coordinator binary>: a fresh devbroker and database, the services, warm-up, load.
system_round() {
    local label="$1" coordinator="$2" n="${SYSTEM_N:-20000}"
    start_bench_broker
    SYSTEM_DB="motcua_systembench"
    psql "$DATABASE_URL" -XAtq -c "DROP DATABASE IF EXISTS $SYSTEM_DB WITH (FORCE)" -c "CREATE DATABASE $SYSTEM_DB"
    SYSTEM_URL="${DATABASE_URL%/*}/$SYSTEM_DB"
    DATABASE_URL="$SYSTEM_URL" "$RELEASE/motcua" migrate --directory "$ROOT/schemas/postgres" >/dev/null
    for department in "${system_departments[@]}"; do
        system_start "$department" "$RELEASE/$department-worker"
    done
    rm -f "$BENCH_DEV/system-pages.port"
    system_start coordinator "$coordinator" --metrics-port 0 --metrics-port-file "$BENCH_DEV/system-pages.port"
    say ""
    say "=== system: $label ==="
    t0="$(date +%s.%N)"
    system_produce 200 7
    system_wait 200 300 || { system_stop_all; return 1; }
    say "  warm-up: 200 dossiers projected after ${t_projected}s (groups joined)"
    local before_events="$system_events" cpu_before=() pid pg_before
    for pid in "${system_pids[@]}"; do cpu_before+=("$(system_cpu "$pid")"); done
    pg_before="$(system_pg_cpu)"
    t0="$(date +%s.%N)"
    system_produce "$n" 11
    local produced
    produced="$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')"
    system_wait $((n + 200)) 900 || { system_stop_all; return 1; }
    local events=$((system_events - before_events))
    say "  $n dossiers produced in ${produced}s; received after ${t_received}s, decided after ${t_decided}s, projected after ${t_projected}s ($events events)"
    local line="" index=0
    for pid in "${system_pids[@]}"; do
        line+=" ${system_names[$index]}=$(awk -v a="$(system_cpu "$pid")" -v b="${cpu_before[$index]}" 'BEGIN { printf "%.1f", a - b }')s/$(system_rss "$pid")MiB"
        index=$((index + 1))
    done
    line+=" postgres=$(awk -v a="$(system_pg_cpu)" -v b="$pg_before" 'BEGIN { printf "%.1f", a - b }')s"
    say "  CPU/peak RSS:$line"
    system_wrk "$label"
    say "RESULT system $label n=$n received=$(awk -v n="$n" -v t="$t_received" 'BEGIN { printf "%.0f", n / t }')/s decided=$(awk -v n="$n" -v t="$t_decided" 'BEGIN { printf "%.0f", n / t }')/s projected=$(awk -v n="$n" -v t="$t_projected" 'BEGIN { printf "%.0f", n / t }')/s (${t_projected}s, $events events, whole-run $(awk -v n="$events" -v t="$t_projected" 'BEGIN { printf "%.0f", n / t }') events/s)"
}

# wrk against the coordinator's pages (64 connections, 15 s each): the status page and one citizen lookup, with the
# run's dossiers in the database and the pipeline idle.
system_wrk() {
    command -v wrk >/dev/null || { say "  wrk not installed (apt-get install wrk): pages not measured"; return 0; }
    local port code
    port="$(cat "$BENCH_DEV/system-pages.port" 2>/dev/null)"
    [ -n "$port" ] || { say "  the coordinator did not write its port: pages not measured"; return 0; }
    code="$(system_psql "SELECT code FROM dossiers ORDER BY received_at DESC LIMIT 1")"
    for path in /status "/dossiers/$code"; do
        local out name
        name="$([ "$path" = /status ] && echo status || echo lookup)"
        out="$(wrk -t 2 -c 64 -d 15s --latency "http://127.0.0.1:$port$path" 2>&1)"
        printf '%s\n' "$out" >>"$OUT"
        say "RESULT system $1 pages $name: $(awk '/Requests\/sec/ { print $2 }' <<<"$out") requests/s, p50 $(awk '$1 == "50%" { print $2 }' <<<"$out"), p99 $(awk '$1 == "99%" { print $2 }' <<<"$out"), non-2xx $(awk '/Non-2xx/ { print $NF }' <<<"$out")"
    done
}

# Catch-up: the projection stopped while dossiers flow (reception alone in the coordinator's stead), then started.
system_catchup() {
    local coordinator="$1" n="${SYSTEM_N:-20000}" index
    index=$((${#system_pids[@]} - 1))
    kill -TERM "${system_pids[$index]}"
    for _ in $(seq 1 100); do kill -0 "${system_pids[$index]}" 2>/dev/null || break; sleep 0.1; done
    unset 'system_pids[index]' 'system_names[index]'
    system_start reception "$coordinator" --reception-only
    local received_before
    received_before="$(system_counts | cut -d' ' -f1)"
    t0="$(date +%s.%N)"
    system_produce "$n" 13
    # Received and decided while the projection is down (its stage never completes here).
    while :; do
        read -r received tasks consumed _ _ <<<"$(system_counts)"
        [ "$received" -ge $((received_before + n)) ] && [ "$consumed" -ge "$tasks" ] && break
        sleep 0.5
    done
    local backlog
    backlog="$(system_psql "SELECT (SELECT count(*) FROM outbox WHERE topic = 'dossier.events') - (SELECT COALESCE(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = 'motcua.coordinator' AND topic = 'dossier.events')")"
    say ""
    say "=== system: catch-up ==="
    say "  $n dossiers received and decided with the projection stopped: $backlog events behind"
    : >"$BENCH_DEV/system-catchup.log"
    KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" DATABASE_URL="$SYSTEM_URL" nohup "$coordinator" --rules "$ROOT/deploy" \
        --log-level info >"$BENCH_DEV/system-catchup.log" 2>&1 </dev/null &
    system_pids+=("$!")
    system_names+=("coordinator")
    t0="$(date +%s.%N)"
    local t_current="" t_timer="" elapsed
    while :; do
        elapsed="$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')"
        read -r _ _ _ events projected <<<"$(system_counts)"
        [ -z "$t_current" ] && [ "$projected" -ge "$events" ] && t_current="$elapsed"
        [ -z "$t_timer" ] && grep -q "deadline timer starts firing" "$BENCH_DEV/system-catchup.log" && t_timer="$elapsed"
        [ -n "$t_current" ] && [ -n "$t_timer" ] && break
        if awk -v e="$elapsed" 'BEGIN { exit !(e > 600) }'; then say "  timed out"; return 1; fi
        sleep 0.2
    done
    say "RESULT system catch-up n=$n backlog=$backlog events: projection current after ${t_current}s ($(awk -v n="$backlog" -v t="$t_current" 'BEGIN { printf "%.0f", n / t }') events/s, coordinator start included), timer firing after ${t_timer}s"
}

system_bench() {
    if [ -n "${SYSTEM_BASELINE_COORDINATOR:-}" ]; then
        system_round "baseline ($(basename "$(dirname "$SYSTEM_BASELINE_COORDINATOR")"))" "$SYSTEM_BASELINE_COORDINATOR" || failures+=(system-baseline)
        system_stop_all
    fi
    if system_round "this tree" "$RELEASE/coordinator"; then
        system_catchup "$RELEASE/coordinator" || failures+=(system-catchup)
    else
        failures+=(system)
    fi
    system_stop_all
    psql "$DATABASE_URL" -XAtq -c "DROP DATABASE IF EXISTS motcua_systembench WITH (FORCE)" || true
}
