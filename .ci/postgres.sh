# Install (Debian packages) and start a PostgreSQL server on this machine for the ledger tests,
# then export WZMEDINS_PG_URL. Source it:   source .ci/postgres.sh
# Listens on 127.0.0.1 only, on its own port and data directory, so it does not collide with
# another cluster on the machine. Re-sourcing reuses a running server.
#   WZMEDINS_PG_PORT (default 54329), WZMEDINS_PG_DIR (default /tmp/wzmedins-pg)
_wz_pg_main() {
    local port="${WZMEDINS_PG_PORT:-54329}" dir="${WZMEDINS_PG_DIR:-/tmp/wzmedins-pg}"
    local user=wzmedins password=wzmedins db=wzmedins sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "postgres.sh: installing postgresql" >&2
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    fi
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    # the server refuses to run as root: run it as the postgres user when we are root
    local as=()
    if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
        chmod 700 "$dir"
        local pwfile="$dir.pw"
        echo "$password" > "$pwfile"; [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
        "${as[@]}" "$bin/initdb" -D "$dir" -U "$user" --pwfile="$pwfile" --auth=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 >/dev/null
        rm -f "$pwfile"
    fi
    # A server killed without a shutdown (a session that ended) recovers on the next start. Its
    # postmaster.pid may name a process that is gone, or a recycled pid: when nothing answers on
    # our port and a start fails, that file is stale and is removed before the next try.
    local try
    for try in 1 2 3 4 5; do
        "$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1 && break
        "${as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on" >/dev/null 2>&1 && break
        echo "postgres.sh: start attempt $try failed (see $dir/server.log); retrying" >&2
        "$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1 || rm -f "$dir/postmaster.pid"
        sleep 2
    done
    "$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 60 >/dev/null
    export WZMEDINS_PG_URL="postgresql://$user:$password@127.0.0.1:$port/$db"
    if ! PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$db"
    fi
    echo "postgres.sh: WZMEDINS_PG_URL=$WZMEDINS_PG_URL" >&2
}
_wz_pg_main
unset -f _wz_pg_main
