# Shared helpers for the tools/ scripts. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV="$ROOT/.dev"
PGBIN="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)"
export PATH="/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PGBIN}:${PATH:-}"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Runs a command as the postgres OS user (PostgreSQL refuses to run as root).
as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; elif command -v runuser >/dev/null; then as_root runuser -u postgres -- "$@"; else as_root su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$(( 20000 + RANDOM % 30000 ))
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    die "no free TCP port found on 127.0.0.1"
}

# SwiftPM's native build system does not rebuild the modules that depend on a struct when only its private stored
# properties change (swiftlang/swift-package-manager#10502): they keep the old layout and the process corrupts memory
# (crashes in swift_release). So when the sources of a library module (Authority, Kafka, Postgres, Processing,
# TestSupport) changed since the last build in a build directory, the build products of this package's own modules
# there are removed first (the dependencies' stay): they recompile in a few minutes instead of crashing later.
# Usage: forget_stale_layouts <bin dir> [<bin dir>…]  (as `swift build --show-bin-path` prints them)
forget_stale_layouts() {
    local stamp now dir target
    now="$(cd "$ROOT" && find Sources/Authority Sources/Kafka Sources/Postgres Sources/Messages Sources/EffectivelyOnce Sources/Store Sources/Services Sources/Operations Sources/Pages Sources/Audit Sources/Simulation Sources/ServiceCommands Tests/TestSupport \
        -name '*.swift' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-40)"
    for dir in "$@"; do
        stamp="$dir/.motcua-sources"
        if [ ! -d "$dir" ]; then
            mkdir -p "$dir"  # a first build: it compiles everything from these sources
        elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$now" ]; then  # no stamp: built before this check, unknown
            # Objects, modules and the driver's incremental records only: the build plan's own files (output
            # file maps, source lists) stay, or SwiftPM fails to find them on its next incremental build.
            for target in "$ROOT"/Sources/* "$ROOT"/Tests/* "$ROOT"/Benchmarks/Sources/* MotCuaPackageTests MotCuaPackageDiscoveredTests; do
                target="$(basename "$target")"
                if [ -d "$dir/$target.build" ]; then
                    find "$dir/$target.build" -type f \( -name '*.o' -o -name '*.swiftdeps' -o -name '*.priors' \
                        -o -name '*.swiftmodule' -o -name '*.swiftdoc' -o -name '*.swiftsourceinfo' -o -name '*.d' \) -delete
                fi
                rm -rf "$dir/Modules/$target.swiftmodule" "$dir/$target.swiftmodule"
            done
            # A package that uses this one by path (Benchmarks/) keeps its build plan's list of this package's
            # source files: a new file would be missing from it ("cannot find 'X' in scope"). Plan anew.
            rm -f "$(dirname "$(dirname "$dir")")/$(basename "$dir").yaml" "$dir/description.json"
        fi
        echo "$now" > "$stamp"
    done
}

# Reception's own database login on a local cluster (trust authentication): a LOGIN role acting as motcua_reception
# from its first statement (the roles themselves stay NOLOGIN). Prints the URL for RECEPTION_DATABASE_URL.
# Usage: reception_login <database URL of the schema owner>   (after the migrations: motcua_reception exists)
reception_login() {
    local url="$1" server
    psql "$url" -v ON_ERROR_STOP=1 -qc "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_reception_dev') THEN
            CREATE ROLE motcua_reception_dev LOGIN IN ROLE motcua_reception;
            ALTER ROLE motcua_reception_dev SET role = 'motcua_reception';
        END IF;
    END \$\$" >/dev/null
    server="${url#*://}"; server="${server#*@}"
    echo "postgresql://motcua_reception_dev@$server"
}
