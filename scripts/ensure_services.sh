#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer at DATABASE_URL / REDIS_URL before the test suite runs.
# 确保测试所需的 PostgreSQL 与 Redis 可用。
#
# Defaults are the same as pyproject's pytest-env:
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kejin
#   REDIS_URL=redis://127.0.0.1:6379/0
# A service that does not answer and lives on this host is started with the machine's own
# commands (pg_ctlcluster / redis-server); a remote one, or one that is not installed, is an error.
# SERVICE_WAIT (seconds, default 20) bounds the wait after starting.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kejin}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
WAIT="${SERVICE_WAIT:-20}"

say()  { printf '[ensure_services] %s\n' "$*"; }
fail() { printf '[ensure_services] ERROR: %s\n' "$*" >&2; exit 1; }

# --- parse the URLs (python3's urllib is the only parser we trust with IPv6, passwords, …) ---
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python
parse() {  # parse URL DEFAULT_PORT -> "scheme host port user dbname"
    "$PYTHON" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit, unquote
u = urlsplit(sys.argv[1])
host = u.hostname or "127.0.0.1"
port = u.port or int(sys.argv[2])
user = unquote(u.username or "")
name = unquote(u.path.lstrip("/")) or ""
print(u.scheme or "-", host, port, user or "-", name or "-")
PY
}
read -r PG_SCHEME PG_HOST PG_PORT PG_USER PG_DB < <(parse "$DATABASE_URL" 5432) || fail "cannot parse DATABASE_URL"
read -r RD_SCHEME RD_HOST RD_PORT _ _ < <(parse "$REDIS_URL" 6379) || fail "cannot parse REDIS_URL"
[[ "$PG_USER" == "-" ]] && PG_USER=postgres
[[ "$PG_DB" == "-" ]] && PG_DB=kejin

case "$PG_SCHEME" in
    postgres|postgresql|pgsql|postgis) ;;
    *) fail "DATABASE_URL must be a postgres:// URL for the test suite (got scheme '$PG_SCHEME')" ;;
esac
case "$RD_SCHEME" in
    redis|rediss) ;;
    *) fail "REDIS_URL must be a redis:// URL (got scheme '$RD_SCHEME')" ;;
esac

is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" || "$1" == "0.0.0.0" ]]; }

# --- probes ---------------------------------------------------------------------------------------
tcp_open() {  # host port
    "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}
pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1
    else
        tcp_open "$PG_HOST" "$PG_PORT"
    fi
}
redis_up() {  # a real PING, not just an open port
    "$PYTHON" - "$RD_HOST" "$RD_PORT" "$RD_SCHEME" <<'PY'
import socket, sys
if sys.argv[3] == "rediss":          # TLS: an open port is the best we can cheaply check
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    except OSError:
        sys.exit(1)
    sys.exit(0)
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.sendall(b"PING\r\n")
    reply = s.recv(64)
    s.close()
except OSError:
    sys.exit(1)
# +PONG, or -NOAUTH (server is up, the client will authenticate with the URL's password)
sys.exit(0 if reply.startswith((b"+PONG", b"-NOAUTH")) else 1)
PY
}
wait_for() {  # name probe
    local name="$1" probe="$2" i
    for ((i = 0; i < WAIT * 2; i++)); do
        "$probe" && return 0
        sleep 0.5
    done
    return 1
}

# --- PostgreSQL -----------------------------------------------------------------------------------
ensure_postgres() {
    if pg_up; then
        say "PostgreSQL is up at $PG_HOST:$PG_PORT"
    else
        is_local "$PG_HOST" || fail "PostgreSQL does not answer at $PG_HOST:$PG_PORT (from DATABASE_URL).
    Start it there, or point DATABASE_URL at a reachable server, e.g.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kejin make test"
        if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ -z "$(ls /etc/postgresql 2>/dev/null)" ]]; then
            fail "PostgreSQL is not running at $PG_HOST:$PG_PORT and is not installed here
    (no pg_ctlcluster / no cluster under /etc/postgresql).
    Install it (Debian: apt-get install postgresql), or point DATABASE_URL at a running server:
    DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/kejin make test"
        fi
        local version
        for version in $(ls /etc/postgresql); do
            say "starting PostgreSQL $version (cluster main) …"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start \
                || say "pg_ctlcluster $version main start failed (it may already be running)"
        done
        wait_for PostgreSQL pg_up || fail "PostgreSQL did not answer at $PG_HOST:$PG_PORT within ${WAIT}s
    (see /var/log/postgresql/). Or point DATABASE_URL at a running server."
        say "PostgreSQL started at $PG_HOST:$PG_PORT"
    fi

    # pytest-django creates its own test_<name> databases; the named database itself is only a
    # convenience (makemigrations' history check, `make worker` against PostgreSQL). Best effort.
    if is_local "$PG_HOST" && command -v psql >/dev/null 2>&1; then
        local exists
        exists="$(PGCONNECT_TIMEOUT=3 psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '${PG_DB//\'/\'\'}'" 2>/dev/null || true)"
        if [[ "$exists" != "1" ]] && command -v createdb >/dev/null 2>&1; then
            if createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" 2>/dev/null; then
                say "created database $PG_DB"
            else
                say "note: could not create database $PG_DB (tests create their own test_* databases)"
            fi
        fi
    fi
}

# --- Redis ------------------------------------------------------------------------------------------
ensure_redis() {
    if redis_up; then
        say "Redis is up at $RD_HOST:$RD_PORT"
        return 0
    fi
    is_local "$RD_HOST" || fail "Redis does not answer at $RD_HOST:$RD_PORT (from REDIS_URL).
    Start it there, or point REDIS_URL at a reachable server, e.g.
    REDIS_URL=redis://127.0.0.1:6379/0 make test"
    command -v redis-server >/dev/null 2>&1 || fail "Redis is not running at $RD_HOST:$RD_PORT and redis-server is not installed here.
    Install it (Debian: apt-get install redis-server), or point REDIS_URL at a running server:
    REDIS_URL=redis://HOST:6379/0 make test"
    say "starting redis-server on port $RD_PORT …"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    local dir=/var/lib/redis logfile=/var/log/redis/ci.log
    [[ -w "$dir" ]] || dir="${TMPDIR:-/tmp}"
    [[ -w "$(dirname "$logfile")" ]] || logfile="${TMPDIR:-/tmp}/kejin-redis.log"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$RD_PORT" --save "" --appendonly no \
        --dir "$dir" --logfile "$logfile" \
        || fail "redis-server failed to start (see $logfile)"
    wait_for Redis redis_up || fail "Redis did not answer at $RD_HOST:$RD_PORT within ${WAIT}s (see $logfile).
    Or point REDIS_URL at a running server."
    say "Redis started at $RD_HOST:$RD_PORT"
}

ensure_postgres
ensure_redis
