#!/usr/bin/env bash
# Guanxi's one entry point on a Debian machine with Python 3.11, Node.js/npm and git:
#   ./guanxi.sh run [guanxi serve options]   prepare everything and serve at http://127.0.0.1:8000
#   ./guanxi.sh test [pytest arguments]      prepare everything, start the services, run pytest
#   ./guanxi.sh services                     only make sure Chromium, Redis and PostgreSQL are up
# Repeated runs are fast: the Python and npm installs are skipped while their lock files match
# the stamps left by the last install.
set -euo pipefail
SELF="$(readlink -f "${BASH_SOURCE[0]}")"
cd "$(dirname "$SELF")"

VENV=.venv
PY="$VENV/bin/python"
CHROMIUM=/usr/bin/chromium
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

say() { printf 'guanxi.sh: %s\n' "$*"; }
die() { printf 'guanxi.sh: error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=""
# apt-get install, as root only; returns 1 (after saying why) where it cannot.
apt_install() {
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        say "cannot install $* here (needs root and apt-get): install it yourself"
        return 1
    fi
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

sha() { sha256sum "$@" | sha256sum | cut -c1-64; }

# --- Python --------------------------------------------------------------------------------

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    die "Guanxi needs Python 3.11 (python3.11 or python3 on PATH)"
}

create_venv() {
    local python
    python="$(find_python)"
    say "creating $VENV with $("$python" --version)"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
        # Debian ships venv's ensurepip in a package of its own.
        rm -rf "$VENV"
        apt_install python3-venv || die "python3 -m venv failed: install python3-venv"
        "$python" -m venv "$VENV"
    fi
}

# setup_python run|dev: the hashed lock installed into .venv, then Guanxi itself (editable).
setup_python() {
    local kind="$1" lock="requirements/$1.lock" stamp="$VENV/.guanxi-installed"
    [ -x "$PY" ] || create_venv
    local want have=""
    want="$kind $(sha "$lock" pyproject.toml)"
    [ -f "$stamp" ] && have="$(cat "$stamp")"
    # A venv with the development lock also has everything `run` needs.
    if [ "$have" = "$want" ] || { [ "$kind" = run ] \
        && [ "$have" = "dev $(sha requirements/dev.lock pyproject.toml)" ]; }; then
        [ -x "$VENV/bin/guanxi" ] && return 0
    fi
    say "installing Python packages from $lock"
    "$PY" -m pip install -qq --disable-pip-version-check --require-hashes -r "$lock"
    "$PY" -m pip install -qq --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$want" >"$stamp"
}

# --- front-end assets ----------------------------------------------------------------------

setup_node() {
    local stamp=node_modules/.guanxi-installed want
    want="$(sha package-lock.json)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm || die "Guanxi needs Node.js with npm for its front-end assets"
    fi
    say "installing front-end assets (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
}

compile_messages() {
    "$VENV/bin/guanxi" compile-messages >/dev/null
}

# --- services for the tests ----------------------------------------------------------------

ensure_chromium() {
    if [ ! -x "$CHROMIUM" ]; then
        apt_install chromium || {
            say "warning: no $CHROMIUM: browser tests will be skipped (and fail when CI=true)"
            return 0
        }
    fi
    # Without a CJK font Chromium draws the Chinese pages as boxes in screenshots.
    if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
        apt_install fonts-wqy-microhei || say "warning: no Chinese font for Chromium"
    fi
}

redis_answers() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
        return
    fi
    # No client installed: speak the protocol through bash's /dev/tcp.
    local reply=""
    { exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3<&-
    [ "${reply%$'\r'}" = "+PONG" ]
}

ensure_redis() {
    redis_answers && return 0
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server \
        || { say "warning: no Redis: Redis tests will be skipped"; return 0; }
    # Installing the package may have started it already.
    if ! redis_answers; then
        say "starting Redis on $REDIS_HOST:$REDIS_PORT"
        redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
            --save "" --appendonly no --dir /tmp --logfile /tmp/guanxi-redis.log
    fi
    local _
    for _ in $(seq 50); do
        redis_answers && return 0
        sleep 0.2
    done
    die "Redis did not answer on $REDIS_HOST:$REDIS_PORT (see /tmp/guanxi-redis.log)"
}

# host and port of DATABASE_URL (or of the default local server).
pg_address() {
    local python="$PY"
    [ -x "$python" ] || python="$(find_python)"
    "$python" - <<'EOF'
import os
from urllib.parse import urlsplit

url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://127.0.0.1:5432/postgres")
print(url.hostname or "127.0.0.1", url.port or 5432)
EOF
}

pg_ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$1" -p "$2"; }

ensure_postgres() {
    local host port version
    read -r host port < <(pg_address)
    pg_ready "$host" "$port" && return 0
    case "$host" in
        127.0.0.1 | localhost | ::1) ;;
        *) die "PostgreSQL at $host:$port does not answer (not a local server: start it yourself)" ;;
    esac
    if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
        apt_install postgresql || die "PostgreSQL is not installed"
        version="$(ls /etc/postgresql | sort -V | tail -n1)"
        # A cluster this script made itself is a local test server: let local TCP clients in
        # without a password, as DATABASE_URL=postgres://postgres@127.0.0.1/... expects.
        say "trusting local TCP connections in the new PostgreSQL $version cluster"
        sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
            "/etc/postgresql/$version/main/pg_hba.conf"
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
    fi
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    if ! pg_ready "$host" "$port"; then
        say "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    local _
    for _ in $(seq 60); do
        pg_ready "$host" "$port" && return 0
        sleep 0.5
    done
    die "PostgreSQL did not answer on $host:$port"
}

# --- commands ------------------------------------------------------------------------------

cmd_run() {
    setup_python run
    setup_node
    compile_messages
    say "starting guanxi serve"
    exec "$VENV/bin/guanxi" serve "$@"
}

cmd_services() {
    ensure_chromium
    ensure_redis
    ensure_postgres
}

cmd_test() {
    setup_python dev
    setup_node
    compile_messages
    ensure_chromium
    ensure_redis
    case "${DATABASE_URL:-}" in
        postgres*) ensure_postgres ;;
    esac
    say "running pytest ($([ -n "${DATABASE_URL:-}" ] && echo "${DATABASE_URL%%:*}" || echo sqlite))"
    local code=0
    "$PY" -m pytest "$@" || code=$?
    if [ "$code" -eq 5 ]; then
        say "error: pytest collected no tests"
    fi
    return "$code"
}

usage() {
    sed -n '2,5p' "$SELF" | sed 's/^# \{0,1\}//'
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    services) cmd_services ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
