# The system as deployed, sourced by tools/bench for `tools/bench system` (uses its RELEASE, BENCH_DEV, say, run,
# start_bench_broker, DATABASE_URL). Reception, the five department workers and the coordinator (release builds,
# separate processes) on a fresh benchmark devbroker and a database of their own on the tools/dev-up cluster
# (default durability). SYSTEM_PARTS chooses the parts (default: load wrk catchup reception scaling):
#
# load       200 dossiers through everything (consumer groups joined, caches warm, not timed), then SYSTEM_N dossiers
#            (default 20,000) produced at once (`motcua simulate dossiers --rate 0`): the times from the first
#            produced message until all are received (reception's offsets on dossiers.intake), decided (every
#            worker's offsets at the end of its department topic) and projected (the projection's offsets at the
#            end of dossier.events); each stage's rate; CPU seconds and peak RSS of each process and the CPU of
#            PostgreSQL's processes.
# wrk        the same as load, on a fresh devbroker and database, with wrk (64 connections each) on the status page
#            and on a citizen's lookup for the first SYSTEM_WRK_SECONDS (15) of the load: requests/s and p99 beside
#            the stage rates of the load without wrk.
# catchup    after the wrk round: the coordinator stopped (a --reception-only coordinator keeps the intake flowing)
#            while SYSTEM_N more dossiers are received and decided, then started: the time until its projection is
#            at the end of dossier.events and until its timer starts firing (it waits for exactly that).
# reception  a coordinator --reception-only alone on a fresh devbroker and database: SYSTEM_N dossiers produced at
#            once, the time until all are received.
# scaling    one department (SYSTEM_SCALE_DEPARTMENT, labour) fed at SYSTEM_SCALE_RATE dossiers/s (600) for
#            SYSTEM_SCALE_SECONDS (60) s; its workers scaled 1 → 4 → 2 processes mid-stream (as KEDA would); the
#            longest pause of the group's stored offsets after each change; then SQL: every task decided, none twice.
#
#            The workers rebalance cooperatively by default (cooperative-sticky); SYSTEM_SCALE_STRATEGY=range,roundrobin
#            gives that department's workers the eager strategy instead, for a comparison.
#
# SYSTEM_BASELINE_COORDINATOR=<path to a release coordinator> runs the load once more with that coordinator first
# (e.g. one built from an older commit) on a fresh devbroker and database, for a same-run before/after.
# Offsets = message counts: on a fresh devbroker every topic starts at offset 0 and has no control records.

system_departments=(industry-trade environment labour culture industrial-zones)
system_pids=()
system_names=()
SYSTEM_DB="motcua_systembench"
SYSTEM_SECRET="bench-receipt-secret-0001"

system_psql() { psql "$SYSTEM_URL" -XAtq -c "$1"; }
system_now() { local t="${EPOCHREALTIME/./}"; echo "$t"; }   # microseconds
system_since() { awk -v a="$(system_now)" -v b="$1" 'BEGIN { printf "%.2f", (a - b) / 1e6 }'; }

system_start() {  # system_start <name> <binary> <args...>: a service process of the run, logs in BENCH_DEV
    local name="$1"
    shift
    # shellcheck disable=SC2086  # SYSTEM_START_ENV: NAME=value words for this process (e.g. a KAFKA_* property)
    env ${SYSTEM_START_ENV:-} KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" DATABASE_URL="$SYSTEM_URL" nohup "$@" --rules "$ROOT/deploy" \
        --log-level "${SYSTEM_LOG_LEVEL:-warning}" >>"$BENCH_DEV/system-$name.log" 2>&1 </dev/null &
    system_pids+=("$!")
    system_names+=("$name")
}

system_stop() {  # system_stop <index>: TERM (the service drains), up to 30 s, then KILL
    local index="$1" pid="${system_pids[$1]}"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    unset 'system_pids[index]' 'system_names[index]'
    system_pids=("${system_pids[@]}")
    system_names=("${system_names[@]}")
}

system_stop_all() {
    local pid
    for pid in "${system_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${system_pids[@]}"; do
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    system_pids=()
    system_names=()
}

system_index() {  # system_index <name>: the index of the last process of that name
    local index
    for index in "${!system_names[@]}"; do [ "${system_names[$index]}" = "$1" ] && echo "$index"; done | tail -1
}

# The next offsets groups stored (a small table: cheap to poll): reception's on the intake, the workers' on their
# department topics, the projection's on dossier.events.
system_offsets() {  # prints: intake_received dept_consumed events_projected
    system_psql "
        SELECT COALESCE(sum(next_offset) FILTER (WHERE consumer_group = 'motcua.reception' AND topic = 'dossiers.intake'), 0),
               COALESCE(sum(next_offset) FILTER (WHERE consumer_group LIKE 'motcua.%'
                   AND topic IN ('dossiers.industry-trade', 'dossiers.environment', 'dossiers.labour', 'dossiers.culture', 'dossiers.industrial-zones')), 0),
               COALESCE(sum(next_offset) FILTER (WHERE consumer_group = 'motcua.coordinator' AND topic = 'dossier.events'), 0)
        FROM consumer_offsets" | tr '|' ' '
}

# The same with what was written for the consumers (outbox rows, which stay after they are sent: a scan of the
# table, so polled only when a stage may be complete), in one statement, so one snapshot.
system_counts() {  # prints: intake_received dept_tasks dept_consumed events events_projected
    system_psql "
        WITH o AS (SELECT count(*) FILTER (WHERE topic IN ('dossiers.industry-trade', 'dossiers.environment', 'dossiers.labour', 'dossiers.culture', 'dossiers.industrial-zones')) AS tasks,
                          count(*) FILTER (WHERE topic = 'dossier.events') AS events FROM outbox),
             c AS (SELECT COALESCE(sum(next_offset) FILTER (WHERE consumer_group = 'motcua.reception' AND topic = 'dossiers.intake'), 0) AS received,
                          COALESCE(sum(next_offset) FILTER (WHERE consumer_group LIKE 'motcua.%'
                              AND topic IN ('dossiers.industry-trade', 'dossiers.environment', 'dossiers.labour', 'dossiers.culture', 'dossiers.industrial-zones')), 0) AS consumed,
                          COALESCE(sum(next_offset) FILTER (WHERE consumer_group = 'motcua.coordinator' AND topic = 'dossier.events'), 0) AS projected
                   FROM consumer_offsets)
        SELECT c.received, o.tasks, c.consumed, o.events, c.projected FROM o, c" | tr '|' ' '
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
system_machine_cpu() {  # CPU seconds of the whole machine (every core, busy time), for the load beside each figure
    awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat
}

# system_wait <target received> <deadline s>: polls every 0.2 s from t0; sets t_received t_decided t_projected
# (seconds since t0), a stage being complete when its consumers are at the end of what was produced for them.
system_wait() {
    local target="$1" deadline="$2" elapsed received consumed projected tasks=0 events=0 last_full=0
    t_received="" t_decided="" t_projected=""
    while :; do
        elapsed="$(system_since "$t0")"
        read -r received consumed projected <<<"$(system_offsets)"
        if [ -z "$t_received" ] && [ "$received" -ge "$target" ]; then t_received="$elapsed"; fi
        if [ -n "$t_received" ] && { [ "$consumed" -ge "$tasks" ] || [ "$projected" -ge "$events" ] \
            || [ $(($(system_now) - last_full)) -gt 2000000 ]; }; then
            read -r received tasks consumed events projected <<<"$(system_counts)"
            last_full="$(system_now)"
            if [ -z "$t_decided" ] && [ "$consumed" -ge "$tasks" ]; then t_decided="$elapsed"; fi
            if [ -n "$t_decided" ] && [ -z "$t_projected" ] && [ "$projected" -ge "$events" ]; then t_projected="$elapsed"; fi
        fi
        [ -n "$t_projected" ] && { system_events="$events"; return 0; }
        if awk -v e="$elapsed" -v d="$deadline" 'BEGIN { exit !(e > d) }'; then
            say "  timed out after ${deadline}s: received $received/$target, tasks consumed $consumed/$tasks, events projected $projected/$events"
            return 1
        fi
        sleep 0.2
    done
}

system_produce() {  # system_produce <count> <seed> [simulate options]
    local count="$1" seed="$2"
    shift 2
    KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" "$RELEASE/motcua" simulate dossiers --count "$count" --seed "$seed" --rate 0 \
        --rules "$ROOT/deploy" "$@" >/dev/null
}

system_fresh() {  # a fresh devbroker and database
    system_stop_all
    start_bench_broker
    psql "$DATABASE_URL" -XAtq -c "DROP DATABASE IF EXISTS $SYSTEM_DB WITH (FORCE)" -c "CREATE DATABASE $SYSTEM_DB"
    SYSTEM_URL="${DATABASE_URL%/*}/$SYSTEM_DB"
    DATABASE_URL="$SYSTEM_URL" "$RELEASE/motcua" migrate --directory "$ROOT/schemas/postgres" >/dev/null
    rm -f "$BENCH_DEV"/system-*.log
}

system_coordinator() {  # system_coordinator <binary> [args]: the coordinator with its pages on a port of its own
    local binary="$1"
    shift
    rm -f "$BENCH_DEV/system-pages.port"
    system_start coordinator "$binary" --metrics-port 0 --metrics-port-file "$BENCH_DEV/system-pages.port" \
        --lookup-limit 0 "$@"
}

system_load_line() {  # the CPU and peak RSS of every process since system_cpu_mark, and of PostgreSQL
    local line="" index
    for index in "${!system_pids[@]}"; do
        line+=" ${system_names[$index]}=$(awk -v a="$(system_cpu "${system_pids[$index]}")" -v b="${system_cpu_before[$index]:-0}" 'BEGIN { printf "%.1f", a - b }')s/$(system_rss "${system_pids[$index]}")MiB"
    done
    line+=" postgres=$(awk -v a="$(system_pg_cpu)" -v b="$system_pg_before" 'BEGIN { printf "%.1f", a - b }')s"
    line+=" machine=$(awk -v a="$(system_machine_cpu)" -v b="$system_machine_before" 'BEGIN { printf "%.1f", a - b }')s"
    echo "$line"
}
system_cpu_mark() {
    local index
    system_cpu_before=()
    for index in "${!system_pids[@]}"; do system_cpu_before[$index]="$(system_cpu "${system_pids[$index]}")"; done
    system_pg_before="$(system_pg_cpu)"
    system_machine_before="$(system_machine_cpu)"
}

# system_round <label> <coordinator binary> <wrk: 0|1>: a fresh devbroker and database, the services, warm-up, load.
system_round() {
    local label="$1" coordinator="$2" with_wrk="$3" n="${SYSTEM_N:-20000}"
    system_fresh
    for department in "${system_departments[@]}"; do
        system_start "$department" "$RELEASE/$department-worker"
    done
    system_coordinator "$coordinator"
    say ""
    say "=== system: $label ==="
    t0="$(system_now)"
    system_produce 200 7
    system_wait 200 300 || return 1
    say "  warm-up: 200 dossiers projected after ${t_projected}s (groups joined)"
    # One warm-up dossier gets a receipt secret, for the lookup under wrk.
    SYSTEM_CODE="$(system_psql "UPDATE dossiers SET receipt_secret_sha256 = sha256(convert_to('$SYSTEM_SECRET', 'UTF8'))
        WHERE id = (SELECT id FROM dossiers ORDER BY received_at LIMIT 1) RETURNING code")"
    local before_events="$system_events" load_before
    load_before="$(cut -d' ' -f1 /proc/loadavg)"
    system_cpu_mark
    t0="$(system_now)"
    [ "$with_wrk" = 0 ] || system_wrk_start
    system_produce "$n" 11
    local produced
    produced="$(system_since "$t0")"
    system_wait $((n + 200)) 900 || return 1
    local events=$((system_events - before_events))
    say "  $n dossiers produced in ${produced}s; received after ${t_received}s, decided after ${t_decided}s, projected after ${t_projected}s ($events events); load average $load_before before, $(cut -d' ' -f1 /proc/loadavg) after"
    say "  CPU seconds/peak RSS:$(system_load_line)"
    [ "$with_wrk" = 0 ] || system_wrk_collect "$label"
    say "RESULT system $label n=$n received=$(awk -v n="$n" -v t="$t_received" 'BEGIN { printf "%.0f", n / t }')/s decided=$(awk -v n="$n" -v t="$t_decided" 'BEGIN { printf "%.0f", n / t }')/s projected=$(awk -v n="$n" -v t="$t_projected" 'BEGIN { printf "%.0f", n / t }')/s (${t_projected}s, $events events, whole-run $(awk -v n="$events" -v t="$t_projected" 'BEGIN { printf "%.0f", n / t }') events/s)"
}

# wrk on the coordinator's pages while the load runs: the status page and a citizen's lookup (code and receipt
# secret of a warm-up dossier), 64 connections each, at the same time, SYSTEM_WRK_SECONDS from the load's start.
system_wrk_start() {
    local port
    command -v wrk >/dev/null || { say "  wrk not installed (tools/setup --bench): pages not measured"; return 0; }
    port="$(cat "$BENCH_DEV/system-pages.port" 2>/dev/null)"
    [ -n "$port" ] || { say "  the coordinator did not write its port: pages not measured"; return 0; }
    cat >"$BENCH_DEV/wrk-secret.lua" <<EOF
wrk.headers["X-Receipt-Secret"] = "$SYSTEM_SECRET"
EOF
    local seconds="${SYSTEM_WRK_SECONDS:-15}"
    wrk -t 1 -c 64 -d "${seconds}s" --latency "http://127.0.0.1:$port/status" >"$BENCH_DEV/wrk-status.txt" 2>&1 &
    system_wrk_pids=("$!")
    wrk -t 1 -c 64 -d "${seconds}s" --latency -s "$BENCH_DEV/wrk-secret.lua" \
        "http://127.0.0.1:$port/dossiers/$SYSTEM_CODE" >"$BENCH_DEV/wrk-lookup.txt" 2>&1 &
    system_wrk_pids+=("$!")
}
system_wrk_collect() {
    local pid name out
    for pid in "${system_wrk_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    system_wrk_pids=()
    for name in status lookup; do
        out="$(cat "$BENCH_DEV/wrk-$name.txt" 2>/dev/null)"
        printf '%s\n' "$out" >>"$OUT"
        say "RESULT system $1 pages $name (64 connections, during the load): $(awk '/Requests\/sec/ { print $2 }' <<<"$out") requests/s, p50 $(awk '$1 == "50%" { print $2 }' <<<"$out"), p99 $(awk '$1 == "99%" { print $2 }' <<<"$out"), non-2xx $(awk '/Non-2xx/ { print $NF }' <<<"$out")$(awk '/Socket errors/ { print ", " $0 }' <<<"$out")"
    done
}

# Catch-up: the projection stopped while dossiers flow (reception alone in the coordinator's stead), then started.
system_catchup() {
    local coordinator="$1" n="${SYSTEM_N:-20000}" received tasks consumed
    system_stop "$(system_index coordinator)"
    system_start reception "$coordinator" --reception-only
    local received_before
    received_before="$(system_offsets | cut -d' ' -f1)"
    t0="$(system_now)"
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
    say "  $n dossiers received and decided with the projection stopped after $(system_since "$t0")s: $backlog events behind; load average $(cut -d' ' -f1 /proc/loadavg)"
    system_stop "$(system_index reception)"
    SYSTEM_LOG_LEVEL=info system_coordinator "$coordinator"
    system_cpu_mark
    t0="$(system_now)"
    local t_current="" t_timer="" elapsed events projected
    while :; do
        elapsed="$(system_since "$t0")"
        read -r _ _ projected <<<"$(system_offsets)"
        if [ -z "$t_current" ] && [ "$projected" -ge "$backlog" ]; then
            read -r _ _ _ events projected <<<"$(system_counts)"
            [ "$projected" -ge "$events" ] && t_current="$elapsed"
        fi
        [ -z "$t_timer" ] && grep -q "deadline timer starts firing" "$BENCH_DEV/system-coordinator.log" && t_timer="$elapsed"
        [ -n "$t_current" ] && [ -n "$t_timer" ] && break
        if awk -v e="$elapsed" 'BEGIN { exit !(e > 600) }'; then say "  timed out"; return 1; fi
        sleep 0.2
    done
    say "  CPU seconds/peak RSS:$(system_load_line)"
    say "RESULT system catch-up n=$n backlog=$backlog events: projection current after ${t_current}s ($(awk -v n="$backlog" -v t="$t_current" 'BEGIN { printf "%.0f", n / t }') events/s, coordinator start included), timer firing after ${t_timer}s; load average $(cut -d' ' -f1 /proc/loadavg)"
}

# Reception on its own: a coordinator --reception-only, nothing else, SYSTEM_N dossiers produced at once.
system_reception() {
    local n="${SYSTEM_N:-20000}" received
    system_fresh
    system_start reception "$RELEASE/coordinator" --reception-only
    say ""
    say "=== system: reception alone ==="
    t0="$(system_now)"
    system_produce 200 7
    while [ "$(system_offsets | cut -d' ' -f1)" -lt 200 ]; do sleep 0.2; done
    local load_before
    load_before="$(cut -d' ' -f1 /proc/loadavg)"
    system_cpu_mark
    t0="$(system_now)"
    system_produce "$n" 11
    local produced elapsed
    produced="$(system_since "$t0")"
    while :; do
        elapsed="$(system_since "$t0")"
        received="$(system_offsets | cut -d' ' -f1)"
        [ "$received" -ge $((n + 200)) ] && break
        if awk -v e="$elapsed" 'BEGIN { exit !(e > 600) }'; then say "  timed out at $received"; return 1; fi
        sleep 0.1
    done
    say "  $n dossiers produced in ${produced}s, received after ${elapsed}s; load average $load_before before, $(cut -d' ' -f1 /proc/loadavg) after"
    say "  CPU seconds/peak RSS:$(system_load_line)"
    say "RESULT system reception alone n=$n $(awk -v n="$n" -v t="$elapsed" 'BEGIN { printf "%.0f", n / t }') dossiers/s (${elapsed}s, producing included: ${produced}s)"
}

# Scaling one department's workers 1 → 4 → 2 mid-stream. A sampler records the group's stored offsets (summed
# over partitions) every 0.1 s; a pause is the longest time between two increases while the department has tasks
# waiting (what reception wrote for it beyond what its workers consumed).
system_scaling() {
    local department="${SYSTEM_SCALE_DEPARTMENT:-labour}" rate="${SYSTEM_SCALE_RATE:-600}" seconds="${SYSTEM_SCALE_SECONDS:-60}"
    local count=$((rate * seconds)) index
    system_fresh
    for other in "${system_departments[@]}"; do
        [ "$other" = "$department" ] || system_start "$other" "$RELEASE/$other-worker"
    done
    # SYSTEM_SCALE_STRATEGY (e.g. range,roundrobin): the partition assignment strategy of that department's workers
    # (default: the workers' own, cooperative-sticky).
    local scale_env=""
    [ -z "${SYSTEM_SCALE_STRATEGY:-}" ] || scale_env="KAFKA_PARTITION_ASSIGNMENT_STRATEGY=$SYSTEM_SCALE_STRATEGY"
    SYSTEM_START_ENV="$scale_env" system_start "$department-1" "$RELEASE/$department-worker"
    system_coordinator "$RELEASE/coordinator"
    say ""
    say "=== system: scaling $department 1 → 4 → 2 ($rate dossiers/s for ${seconds}s; assignment ${SYSTEM_SCALE_STRATEGY:-cooperative-sticky, the default of the workers}) ==="
    t0="$(system_now)"
    system_produce 200 7 --department "$department"
    system_wait 200 300 || return 1
    local sampler_file="$BENCH_DEV/scaling-samples.txt"
    : >"$sampler_file"
    # One psql session, fed a query every 0.1 s through a fifo: the time (µs) and the group's stored offsets. The
    # feeder is stopped at the end, so psql reads its end of input and writes out what it buffered.
    rm -f "$BENCH_DEV/scaling.fifo"
    mkfifo "$BENCH_DEV/scaling.fifo"
    psql "$SYSTEM_URL" -XAtq -F ' ' <"$BENCH_DEV/scaling.fifo" >"$sampler_file" 2>/dev/null &
    local sampler_psql=$!
    (
        while :; do
            printf "SELECT %s, COALESCE(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = 'motcua.%s' AND topic = 'dossiers.%s';\n" \
                "$(system_now)" "$department" "$department"
            sleep 0.1
        done
    ) >"$BENCH_DEV/scaling.fifo" &
    local sampler=$!
    t0="$(system_now)"
    KAFKA_BOOTSTRAP="$BENCH_BOOTSTRAP" "$RELEASE/motcua" simulate dossiers --count "$count" --seed 17 --rate "$rate" \
        --department "$department" --rules "$ROOT/deploy" >/dev/null &
    local producer=$!
    local third=$((seconds / 3)) marks=()
    sleep "$third"
    marks+=("$(system_now) 1→4")
    for i in 2 3 4; do SYSTEM_START_ENV="$scale_env" system_start "$department-$i" "$RELEASE/$department-worker"; done
    sleep "$third"
    marks+=("$(system_now) 4→2")
    # Both at once (as a scale-down does), then each waited for.
    kill -TERM "${system_pids[$(system_index "$department-4")]}" "${system_pids[$(system_index "$department-3")]}" 2>/dev/null || true
    system_stop "$(system_index "$department-4")"
    system_stop "$(system_index "$department-3")"
    wait "$producer"
    # Until reception has received every dossier produced and the department's workers have consumed every task.
    local tasks consumed
    while [ "$(system_offsets | cut -d' ' -f1)" -lt $((count + 200)) ]; do
        if awk -v e="$(system_since "$t0")" 'BEGIN { exit !(e > 900) }'; then say "  timed out waiting for reception"; break; fi
        sleep 0.5
    done
    while :; do
        tasks="$(system_psql "SELECT count(*) FROM outbox WHERE topic = 'dossiers.$department'")"
        consumed="$(system_psql "SELECT COALESCE(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = 'motcua.$department' AND topic = 'dossiers.$department'")"
        [ "$consumed" -ge "$tasks" ] && break
        if awk -v e="$(system_since "$t0")" 'BEGIN { exit !(e > 900) }'; then say "  timed out: $consumed of $tasks"; break; fi
        sleep 0.5
    done
    local t_end
    t_end="$(system_now)"
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" "$sampler_psql" 2>/dev/null || true
    rm -f "$BENCH_DEV/scaling.fifo"
    say "  $count dossiers at $rate/s; all $tasks tasks of $department consumed after $(system_since "$t0")s; load average $(cut -d' ' -f1 /proc/loadavg)"
    # The longest pause after each change (within the 20 s after it), and the longest anywhere else.
    local mark
    for mark in "${marks[@]}"; do
        read -r at label <<<"$mark"
        say "RESULT system scaling $department $label: longest pause of the group's progress within 20 s after the change $(awk -v at="$at" '
            { t = $1; o = $2 }
            NR > 1 && o > last_o { if (t >= at - 1e6 && last_t <= at + 20e6 && t - last_t > gap) gap = t - last_t; last_t = t; last_o = o }
            NR == 1 { last_t = t; last_o = o }
            END { printf "%.2f s", gap / 1e6 }' "$sampler_file")"
    done
    say "  longest pause of the group's progress over the whole stream: $(awk -v end="$t_end" '
        { t = $1; o = $2 }
        NR > 1 && o > last_o { if (t - last_t > gap) gap = t - last_t; last_t = t; last_o = o }
        NR == 1 { last_t = t; last_o = o }
        END { printf "%.2f s", gap / 1e6 }' "$sampler_file")"
    # Nothing lost, nothing decided twice: as many decisions as tasks on the topic, each from its own message (the
    # key of decisions is (dossier, step, round)), and one decision event per decision.
    say "RESULT system scaling $department checks: $(system_psql "
        SELECT 'tasks on dossiers.$department ' || (SELECT count(*) FROM outbox WHERE topic = 'dossiers.$department')
            || ', decisions ' || (SELECT count(*) FROM decisions WHERE department = '$department')
            || ', decided messages (distinct partition, offset) ' || (SELECT count(DISTINCT (source_partition, source_offset)) FROM decisions WHERE department = '$department')
            || ', events from $department by type: ' || (SELECT string_agg(kind || ' ' || n, ', ') FROM (SELECT convert_from(payload, 'UTF8')::jsonb ->> 'type' AS kind, count(*) AS n FROM outbox WHERE topic = 'dossier.events' AND source = '$department' GROUP BY 1 ORDER BY 1) e)")"
}

system_bench() {
    local parts=" ${SYSTEM_PARTS:-load wrk catchup reception scaling} "
    if [ -n "${SYSTEM_BASELINE_COORDINATOR:-}" ]; then
        system_round "baseline coordinator ($SYSTEM_BASELINE_COORDINATOR)" "$SYSTEM_BASELINE_COORDINATOR" 0 \
            || failures+=(system-baseline)
    fi
    if [[ "$parts" == *" load "* ]]; then
        system_round "load" "$RELEASE/coordinator" 0 || failures+=(system-load)
    fi
    if [[ "$parts" == *" wrk "* ]] || [[ "$parts" == *" catchup "* ]]; then
        local wrk=0
        [[ "$parts" != *" wrk "* ]] || wrk=1
        if system_round "load$([ "$wrk" = 0 ] || echo ' with wrk')" "$RELEASE/coordinator" "$wrk"; then
            if [[ "$parts" == *" catchup "* ]]; then system_catchup "$RELEASE/coordinator" || failures+=(system-catchup); fi
        else
            failures+=(system-wrk)
        fi
    fi
    if [[ "$parts" == *" reception "* ]]; then system_reception || failures+=(system-reception); fi
    if [[ "$parts" == *" scaling "* ]]; then system_scaling || failures+=(system-scaling); fi
    system_stop_all
    psql "$DATABASE_URL" -XAtq -c "DROP DATABASE IF EXISTS $SYSTEM_DB WITH (FORCE)" || true
}
