#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server for the test suite (Debian's postgresql packages).
# usage: scripts/pg.sh start DIR PORT | scripts/pg.sh stop DIR
# The server runs in Asia/Shanghai, like a Chinese operator's; ciimap's sessions must still read UTC.
set -euo pipefail
cmd=$1; dir=$2; port=${3:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U ciimap --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c timezone=Asia/Shanghai" start >/dev/null
    echo "postgresql+psycopg://ciimap@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
esac
