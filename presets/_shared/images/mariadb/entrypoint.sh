#!/bin/sh
# First start on an empty data volume: initialise the system tables, then create the
# database and user named by MARIADB_DATABASE / MARIADB_USER / MARIADB_PASSWORD.
# The server listens on no network while it initialises, so the health check (which
# connects over TCP) only passes once the real server is up.
set -eu
datadir=/var/lib/mysql
# Only what is not mysql's already: on a copy-on-write volume (up --seed-from) a chown of
# every file would copy each one whole into the environment's own layer.
find "$datadir" \( ! -user mysql -o ! -group mysql \) -exec chown -h mysql:mysql {} +
chown mysql:mysql /run/mysqld
# A restored snapshot lives in a folder of its own on the same volume; the pointer file,
# replaced with one rename, says which folder the server uses (see prodlike snapshot).
# A new, empty volume starts that way too: snapshots prepared beside the data can then
# be switched to with a rename.
if [ ! -f "$datadir/.prodlike-current" ] && [ -z "$(ls -A "$datadir" 2>/dev/null | grep -vx "lost+found")" ]; then
  mkdir "$datadir/data-initial"
  chown mysql:mysql "$datadir/data-initial"
  printf %s data-initial > "$datadir/.prodlike-current"
fi
# A volume layered on a seed (up --seed-from ENV:SNAPSHOT) carries the seed's server
# options: a small redo log and temporary tablespace, made in the environment's own
# layer, so it costs megabytes before its first write rather than InnoDB's default 100.
# Only InnoDB sizes of that form are taken: the file is data, never a command line.
if [ -f "$datadir/.prodlike-server-options" ]; then
  for option in $(grep -E '^--innodb-[a-z-]+=[A-Za-z0-9:]+$' "$datadir/.prodlike-server-options"); do
    set -- "$@" "$option"
  done
fi
if [ -f "$datadir/.prodlike-current" ]; then
  current="$datadir/$(cat "$datadir/.prodlike-current")"
  echo "prodlike: data directory $current"
  set -- "$@" --datadir="$current"
  datadir="$current"
fi
# A server on no network, for the work done before the real one starts.
start_private() {
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  i=0
  until mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -gt 120 ] && { echo "prodlike: MariaDB did not start ($1)" >&2; exit 1; }
    sleep 0.25
  done
}
stop_private() {
  mariadb-admin --socket=/run/mysqld/init.sock shutdown
  wait "$pid" || true
}
if [ ! -d "$datadir/mysql" ]; then
  : "${MARIADB_DATABASE:?MARIADB_DATABASE is required}"
  : "${MARIADB_USER:?MARIADB_USER is required}"
  : "${MARIADB_PASSWORD:?MARIADB_PASSWORD is required}"
  echo "prodlike: initialising a new database in $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=socket >/dev/null
  start_private initialisation
  # The database alone; the login is made below, at every start.
  mariadb --socket=/run/mysqld/init.sock <<SQL
CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
SQL
  stop_private
  echo "prodlike: database ${MARIADB_DATABASE} ready"
else
  # Data written by another MariaDB (prodlike.yaml moved `database:` from 10.11 to 11.8,
  # or parity --write did): its system tables are brought up to this server's version
  # once, as the official image's auto-upgrade does. The user's data is not touched.
  server=$(mariadbd --version | sed -n 's/.*Ver \([0-9]*\.[0-9]*\).*/\1/p')
  info=$(cat "$datadir/mariadb_upgrade_info" "$datadir/mysql_upgrade_info" 2>/dev/null | head -n1 || true)
  data=$(printf %s "$info" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
  if [ -n "$server" ] && [ "$data" != "$server" ]; then
    echo "prodlike: upgrading the system tables from MariaDB ${data:-unknown} to $server"
    start_private upgrade
    mariadb-upgrade --socket=/run/mysqld/init.sock --silent >/dev/null || {
      echo "prodlike: mariadb-upgrade failed" >&2; stop_private; exit 1; }
    stop_private
  fi
fi
# Every start: this environment's database and login, whatever data the server starts
# on (a snapshot, or another environment's copy from `up --seed-from`, brings the users
# and passwords it was made with). The server runs the file at start-up, before it
# accepts connections. The application's login reaches its own database and nothing
# else (no other database, no accounts, no GRANT OPTION); root stays on the unix socket
# inside the container, for prodlike's own maintenance. Values go through SQL quoting
# (a password with a quote cannot break out); in a GRANT `_` and `%` are patterns, so
# they are escaped to name this database alone.
if [ -n "${MARIADB_USER:-}" ] && [ -n "${MARIADB_PASSWORD:-}" ] && [ -n "${MARIADB_DATABASE:-}" ]; then
  login=/run/mysqld/prodlike-login.sql
  password=$(printf %s "$MARIADB_PASSWORD" | sed "s/'/''/g")
  granted=$(printf %s "$MARIADB_DATABASE" | sed 's/[_%]/\\&/g')
  (
    umask 077
    {
      printf "CREATE DATABASE IF NOT EXISTS \`%s\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n" "$MARIADB_DATABASE"
      printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n" "$MARIADB_USER" "$password"
      printf "ALTER USER '%s'@'%%' IDENTIFIED BY '%s';\n" "$MARIADB_USER" "$password"
      printf "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'%%';\n" "$MARIADB_USER"
      printf "GRANT ALL PRIVILEGES ON \`%s\`.* TO '%s'@'%%';\n" "$granted" "$MARIADB_USER"
    } > "$login"
  )
  chown mysql:mysql "$login"
  set -- "$@" --init-file="$login"
fi
exec "$@"
