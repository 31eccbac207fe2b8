# Sourced by scripts that need a throwaway PostgreSQL server (.ci/run, cluster.sh).
#
# start_throwaway_postgres DIR PORT: initdb in DIR (as the postgres user when run as root:
# PostgreSQL refuses to run as root), trust authentication on loopback only, a server on
# 127.0.0.1:PORT; prints nothing on success. The URL is postgres://zksettle@127.0.0.1:PORT/postgres.
# stop_throwaway_postgres DIR: stops it (fast shutdown) and removes DIR.

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }; done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  echo "error: no PostgreSQL server binaries (initdb): apt-get install postgresql" >&2
  return 1
}

pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

start_throwaway_postgres() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin) || return 1
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  pg_as_owner "'$bin/initdb' -D '$dir/data' -U zksettle --auth=trust -E UTF8 --locale=C --no-instructions" > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; echo "error: initdb failed" >&2; return 1; }
  pg_as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200\" start" > /dev/null \
    || { cat "$dir/server.log" >&2; echo "error: PostgreSQL did not start" >&2; return 1; }
}

stop_throwaway_postgres() {
  local dir=$1 bin
  bin=$(pg_bin) || return 1
  [ -d "$dir/data" ] && pg_as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" > /dev/null 2>&1
  rm -rf "$dir"
}

# create_database PORT NAME: an empty database NAME on the throwaway server at PORT.
create_database() {
  local port=$1 name=$2 bin
  bin=$(pg_bin) || return 1
  "$bin/psql" -h 127.0.0.1 -p "$port" -U zksettle -d postgres -qc "CREATE DATABASE $name" >/dev/null
}

# crash_throwaway_postgres DIR: stops the server at once, as a power cut would (-m immediate:
# no checkpoint, the next start replays the WAL).
crash_throwaway_postgres() {
  local dir=$1 bin
  bin=$(pg_bin) || return 1
  pg_as_owner "'$bin/pg_ctl' -D '$dir/data' -m immediate -w stop" > /dev/null
}

# restart_throwaway_postgres DIR PORT: starts it again after crash_throwaway_postgres.
restart_throwaway_postgres() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin) || return 1
  pg_as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200\" start" > /dev/null
}
