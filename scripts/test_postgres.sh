#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, listening only on 127.0.0.1 on a free port.
#
#   bash scripts/test_postgres.sh start DIR   creates a cluster in DIR, starts it, creates the
#                                            database nascent_test and prints its URL
#   bash scripts/test_postgres.sh stop DIR    stops that server and removes DIR
#
# The server refuses to run as root, so as root it runs as the postgres user that Debian's
# postgresql package creates. Authentication is "trust" on loopback only: the server exists for
# the length of one test run and holds nothing else.
set -euo pipefail

action=${1:-}
directory=${2:-}
if [[ -z "$action" || -z "$directory" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$bin_dir" ]]; then
  echo "test_postgres: expected a PostgreSQL server in /usr/lib/postgresql/*/bin, found none" \
    "(run scripts/setup.sh)" >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  as_server_user=(runuser -u postgres --)
else
  as_server_user=()
fi

case "$action" in
  start)
    mkdir -p "$directory"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$directory"; fi
    if ! "${as_server_user[@]}" "$bin_dir/initdb" -D "$directory/data" -U nascent --auth=trust \
      -E UTF8 --locale=C.UTF-8 >"$directory/initdb.log" 2>&1; then
      echo "test_postgres: initdb in $directory failed:" >&2
      cat "$directory/initdb.log" >&2
      exit 1
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off by default: the server's files live only as long as this test run. Benchmarks
    # set POSTGRES_FSYNC=on to measure a server as it would be run for real.
    server_options="-c listen_addresses=127.0.0.1 -p $port -k $directory"
    server_options+=" -c fsync=${POSTGRES_FSYNC:-off} -c max_connections=200"
    "${as_server_user[@]}" "$bin_dir/pg_ctl" -D "$directory/data" -l "$directory/server.log" -w \
      -o "$server_options" start >/dev/null
    "${as_server_user[@]}" "$bin_dir/createdb" -h 127.0.0.1 -p "$port" -U nascent nascent_test
    echo "postgresql://nascent@127.0.0.1:$port/nascent_test"
    ;;
  stop)
    if [[ -d "$directory/data" ]]; then
      "${as_server_user[@]}" "$bin_dir/pg_ctl" -D "$directory/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$directory"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
