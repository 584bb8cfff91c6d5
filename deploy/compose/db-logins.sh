#!/bin/sh
# Gives each MotCua service role LOGIN and the password of its DATABASE_URL (secrets/<service>.env; and reception's
# RECEPTION_DATABASE_URL in coordinator.env), as the schema owner (DATABASE_URL of secrets/migrate.env). Passwords go
# to psql on stdin, never on a command line or in a log.
set -eu
for file in /secrets/*.env; do
    case "$(basename "$file")" in migrate.env|kafka-*.env) continue ;; esac
    for key in DATABASE_URL RECEPTION_DATABASE_URL; do
        url="$(sed -n "s/^$key=//p" "$file")"
        [ -n "$url" ] || continue
        creds="${url#*://}"; creds="${creds%%@*}"
        role="${creds%%:*}"; password="${creds#*:}"
        case "$role" in motcua_*) ;; *) echo "skip $(basename "$file"): $role is not a MotCua role" >&2; continue ;; esac
        # The password must not need URL-decoding (use letters, digits, - and _ in generated passwords).
        printf '\\set role %s\n\\set pw %s\nALTER ROLE :"role" LOGIN PASSWORD :'"'"'pw'"'"';\n' "$role" "$password" \
            | psql -v ON_ERROR_STOP=1 -q "$DATABASE_URL"
        echo "login enabled for $role" >&2
    done
done
