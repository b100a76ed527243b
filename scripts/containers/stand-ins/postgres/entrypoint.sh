#!/bin/bash
# First start as the official PostgreSQL image does it: an empty PGDATA is initialised with the
# superuser postgres and POSTGRES_PASSWORD, password logins from anywhere, listening everywhere.
set -euo pipefail
install -d -o postgres -g postgres -m 0700 "$PGDATA"
install -d -o postgres -g postgres /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    printf '%s\n' "$POSTGRES_PASSWORD" > /run/postgresql/pwfile
    chown postgres /run/postgresql/pwfile
    runuser -u postgres -- initdb -D "$PGDATA" -U postgres --pwfile=/run/postgresql/pwfile \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f /run/postgresql/pwfile
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec runuser -u postgres -- postgres -D "$PGDATA" -c listen_addresses='*' "$@"
