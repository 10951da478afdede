#!/usr/bin/env bash
# Run a command with SCIMBRIDGE_TEST_POSTGRES_URL pointing at a throwaway PostgreSQL server.
#
# The storage tests run against SQLite always, and against PostgreSQL when this
# variable is set. This script installs Debian's PostgreSQL when it is missing
# and it may (root with apt-get, as on CI), starts a private cluster on a free
# loopback port in a temporary directory, and removes it when the command ends.
# Without PostgreSQL it says so and runs the command anyway.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bin=$(find_bin)
if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "with-postgres: installing PostgreSQL" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
  bin=$(find_bin)
fi
if [ -z "$bin" ]; then
  echo "with-postgres: PostgreSQL is not installed; its tests will be skipped" >&2
  exec "$@"
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi

dir=$(mktemp -d /tmp/scimbridge-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
"${as_owner[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres scimbridge_test

export SCIMBRIDGE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/scimbridge_test"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port" >&2
"$@"
