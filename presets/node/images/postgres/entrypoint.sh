#!/bin/sh
# First start on an empty volume: initdb, then the database and login named by
# POSTGRES_DB / POSTGRES_USER / POSTGRES_PASSWORD. The server then listens on all
# addresses of the container with password logins (the published port is 127.0.0.1 only).
set -eu
data=/var/lib/postgresql/data
chown -R postgres:postgres "$data" /run/postgresql
chmod 0700 "$data"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$data/PG_VERSION" ]; then
  : "${POSTGRES_DB:?POSTGRES_DB is required}"
  : "${POSTGRES_USER:?POSTGRES_USER is required}"
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
  echo "prodlike: initialising a new cluster in $data"
  as_postgres initdb -D "$data" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
  echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
  as_postgres pg_ctl -D "$data" -o "-c listen_addresses=''" -w start >/dev/null
  password=$(printf %s "$POSTGRES_PASSWORD" | sed "s/'/''/g")
  as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres <<SQL
CREATE ROLE "${POSTGRES_USER}" LOGIN PASSWORD '${password}';
CREATE DATABASE "${POSTGRES_DB}" OWNER "${POSTGRES_USER}";
SQL
  as_postgres pg_ctl -D "$data" -m fast -w stop >/dev/null
  echo "prodlike: database ${POSTGRES_DB} ready"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$data" -c listen_addresses='*'
