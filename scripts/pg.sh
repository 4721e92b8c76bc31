#!/usr/bin/env bash
# A private PostgreSQL cluster under the repo (.pg/), reached over a Unix socket only,
# so two checkouts never fight over a port. PostgreSQL refuses to run as root: when
# called as root the server runs as an unprivileged user (PG_RUN_AS, default postgres,
# created if missing). Usage: scripts/pg.sh start|stop|status|env
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
pgroot="${PG_ROOT:-$here/.pg}"
data="$pgroot/data"
log="$pgroot/server.log"
port="${PG_PORT:-5432}"  # only names the socket file; nothing listens on TCP
dbname="${DATABASE_NAME:-repdesk}"
dbuser="${DATABASE_USER:-repdesk}"

# Unix socket paths are limited to ~107 bytes: fall back to a short path in /tmp.
sock="$pgroot/run"
if [ ${#sock} -gt 80 ]; then
  sock="/tmp/repdesk-pg-$(printf '%s' "$here" | md5sum | cut -c1-10)"
fi

find_bin() {
  local d
  for d in "${PG_BIN:-}" /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v postgres >/dev/null 2>&1; then dirname "$(command -v postgres)"; return 0; fi
  return 1
}

ensure_binaries() {
  if bin="$(find_bin)"; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> PostgreSQL server not found: installing it with apt-get (postgresql)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # Debian starts a system cluster on install; we do not use it.
    (command -v service >/dev/null && service postgresql stop >/dev/null 2>&1) || true
    bin="$(find_bin)" && return 0
  fi
  echo "error: no PostgreSQL server binaries found. Install PostgreSQL 13+ (Debian: apt-get install postgresql)" >&2
  echo "       or set PG_BIN to the folder holding 'postgres' and 'initdb'." >&2
  exit 1
}

run_as=""
as_server() {
  if [ -n "$run_as" ]; then runuser -u "$run_as" -- "$@"; else "$@"; fi
}

setup_user() {
  [ "$(id -u)" = 0 ] || return 0
  run_as="${PG_RUN_AS:-postgres}"
  if ! id "$run_as" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$run_as"
  fi
  # The server user must be able to reach .pg/ through every parent folder
  # (mktemp -d folders are 0700). Grant traverse-only (o+x) where it is missing.
  local d="$pgroot"
  mkdir -p "$pgroot"
  while [ "$d" != "/" ]; do
    d="$(dirname "$d")"
    if ! runuser -u "$run_as" -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
    fi
  done
  chown "$run_as" "$pgroot"
}

start() {
  ensure_binaries
  setup_user
  mkdir -p "$pgroot"
  if [ -n "$run_as" ]; then chown "$run_as" "$pgroot"; fi
  if [ ! -s "$data/PG_VERSION" ]; then
    echo "==> Creating a private PostgreSQL cluster in $data"
    as_server "$bin/initdb" -D "$data" -U "$dbuser" --auth=trust -E UTF8 --locale=C.UTF-8 >"$pgroot/initdb.log" 2>&1 \
      || as_server "$bin/initdb" -D "$data" -U "$dbuser" --auth=trust -E UTF8 --locale=C >"$pgroot/initdb.log" 2>&1 \
      || { cat "$pgroot/initdb.log" >&2; echo "error: initdb failed (log above)" >&2; exit 1; }
  fi
  mkdir -p "$sock"
  if [ -n "$run_as" ]; then chown "$run_as" "$sock" "$pgroot"; touch "$log"; chown "$run_as" "$log"; fi
  chmod 700 "$sock"
  if as_server "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    :
  else
    echo "==> Starting PostgreSQL (socket $sock)"
    # fsync off: a developer/test cluster, rebuilt from migrations and demo data at will.
    as_server "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-c listen_addresses='' -k $sock -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { tail -n 20 "$log" >&2; echo "error: PostgreSQL did not start (log: $log)" >&2; exit 1; }
  fi
  if ! "$bin/psql" -h "$sock" -p "$port" -U "$dbuser" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$dbname'" | grep -q 1; then
    "$bin/createdb" -h "$sock" -p "$port" -U "$dbuser" "$dbname"
  fi
}

stop() {
  bin="$(find_bin)" || exit 0
  [ -s "$data/PG_VERSION" ] || { echo "no cluster in $data"; exit 0; }
  [ "$(id -u)" = 0 ] && run_as="$(stat -c %U "$data")"
  if as_server "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_server "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null && echo "PostgreSQL stopped."
  else
    echo "PostgreSQL is not running."
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) bin="$(find_bin)"; [ "$(id -u)" = 0 ] && run_as="$(stat -c %U "$data")"; as_server "$bin/pg_ctl" -D "$data" status ;;
  env) echo "DATABASE_HOST=$sock"; echo "DATABASE_PORT=$port" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
