#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and RabbitMQ are installed, running and reachable
# on 127.0.0.1, and that the project's databases, role and test vhost exist.
#
# On Debian/Ubuntu as root, missing servers are installed with apt-get.
# Anywhere else, a missing server is reported with what to install, and the
# script exits non-zero. Extra Debian packages needed by a make target (nginx,
# wrk, ...) are passed as arguments: scripts/ensure-system.sh nginx wrk
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB_USER=${SANCTUM_DB_USER:-sanctum}
DB_PASSWORD=${SANCTUM_DB_PASSWORD:-sanctum}
# The app suite runs in shards side by side (scripts/test-app.sh), each with a database
# and a vhost of its own: sanctum_test_1, sanctum_test_2 (3 and 4 for runs beside those);
# plain sanctum_test for a single pytest run and the bench.
TEST_NAMES="sanctum_test sanctum_test_1 sanctum_test_2 sanctum_test_3 sanctum_test_4"
DATABASES=(${SANCTUM_DATABASES:-sanctum $TEST_NAMES})
TEST_VHOSTS=(${SANCTUM_TEST_VHOST:-$TEST_NAMES})

say() { printf '\033[1m[system]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[system] %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=0
apt_install() {
    if ! is_root || ! has_apt; then
        die "missing: $* -- install the Debian/Ubuntu packages '$*' (or run 'make' as root on Debian/Ubuntu to have them installed)"
    fi
    # Two make targets running side by side may both install: one apt at a time.
    exec 8>/var/lock/sanctum-apt.lock
    flock 8
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
    flock -u 8
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
    local host=$1 port=$2 name=$3 tries=${4:-60}
    for _ in $(seq "$tries"); do
        port_open "$host" "$port" && return 0
        sleep 1
    done
    die "$name did not come up on $host:$port"
}

# Nice to have, never a reason to stop: client tools the operations tests use.
maybe_install() {
    for tool_package in "$@"; do
        local tool=${tool_package%%:*} package=${tool_package#*:}
        if ! command -v "$tool" >/dev/null 2>&1 && is_root && has_apt; then apt_install "$package"; fi
    done
}

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! port_open "$PGHOST" "$PGPORT"; then
        apt_install postgresql postgresql-client
    fi
    maybe_install pg_dump:postgresql-client
    if ! port_open "$PGHOST" "$PGPORT"; then
        local version
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
        [ -n "$version" ] || die "PostgreSQL is installed but no cluster exists; create one with pg_createcluster"
        say "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || die "could not start PostgreSQL; start it and re-run"
        wait_port "$PGHOST" "$PGPORT" PostgreSQL
    fi
}

psql_admin() {
    # Superuser access: the postgres OS user over the socket when we are root,
    # otherwise the postgres role over TCP (trust or ~/.pgpass).
    if is_root && id postgres >/dev/null 2>&1; then
        runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"
    else
        psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres "$@"
    fi
}

databases_ready() {
    command -v psql >/dev/null 2>&1 || return 1
    for db in "${DATABASES[@]}"; do
        PGPASSWORD=$DB_PASSWORD psql -X -q -h "$PGHOST" -p "$PGPORT" -U "$DB_USER" -d "$db" \
            -c 'SELECT 1' >/dev/null 2>&1 || return 1
    done
}

# Thirteen processes per stack, and the test suite runs two stacks side by side: the
# default of 100 connections is too few. Raised once (a restart), only as root.
MIN_CONNECTIONS=300
ensure_connections() {
    is_root && id postgres >/dev/null 2>&1 || return 0
    local current
    current=$(psql_admin -d postgres -tAc "SHOW max_connections")
    [ "$current" -ge "$MIN_CONNECTIONS" ] && return 0
    say "raising PostgreSQL max_connections from $current to $MIN_CONNECTIONS (restart)"
    psql_admin -d postgres -c "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS" >/dev/null
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart \
        || die "could not restart PostgreSQL; restart it and re-run"
    wait_port "$PGHOST" "$PGPORT" PostgreSQL
}

ensure_databases() {
    # Already there (the usual case after the first run): no superuser needed.
    databases_ready && return 0
    if ! is_root && ! psql -X -q -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
        die "cannot create the '$DB_USER' role and databases (${DATABASES[*]}) without a PostgreSQL superuser: run 'make' once as root, or create them yourself (CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '...'; CREATE DATABASE ... OWNER $DB_USER)"
    fi
    psql_admin -d postgres <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
    for db in "${DATABASES[@]}"; do
        if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
            say "creating database $db"
            psql_admin -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$DB_USER\"" >/dev/null
        fi
    done
}

ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 && ! port_open 127.0.0.1 6379; then
        apt_install redis-server
    fi
    maybe_install redis-check-rdb:redis-tools
    if ! port_open 127.0.0.1 6379; then
        say "starting Redis"
        local dir=/var/lib/redis logdir=/var/log/redis
        if ! is_root; then dir=$PWD/var/redis; logdir=$PWD/var/log; fi
        mkdir -p "$dir" "$logdir"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
            --appendonly no --dir "$dir" --logfile "$logdir/redis.log" \
            || die "could not start Redis; start it and re-run"
        wait_port 127.0.0.1 6379 Redis 30
    fi
}

ensure_rabbitmq() {
    if ! command -v rabbitmq-server >/dev/null 2>&1 && ! port_open 127.0.0.1 5672; then
        apt_install rabbitmq-server
    fi
    if ! port_open 127.0.0.1 5672; then
        say "starting RabbitMQ (this takes a few seconds)"
        rabbitmq-server -detached || die "could not start RabbitMQ; start it and re-run"
        wait_port 127.0.0.1 5672 RabbitMQ 90
    fi
    # A separate vhost keeps `make test` from consuming a running `make run`
    # stack's messages.
    if command -v rabbitmqctl >/dev/null 2>&1 && is_root; then
        for _ in $(seq 30); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
        local existing
        existing=$(rabbitmqctl -q list_vhosts 2>/dev/null)
        for vhost in "${TEST_VHOSTS[@]}"; do
            if ! grep -qx "$vhost" <<<"$existing"; then
                say "creating RabbitMQ vhost $vhost"
                rabbitmqctl -q add_vhost "$vhost" >/dev/null
                rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
            fi
        done
    elif ! is_root; then
        say "note: 'make test' uses the RabbitMQ vhosts ${TEST_VHOSTS[*]}; if they do not exist, create each as root:"
        say "  rabbitmqctl add_vhost <vhost> && rabbitmqctl set_permissions -p <vhost> guest '.*' '.*' '.*'"
    fi
}

ensure_extra_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if has_apt; then apt_install "${missing[@]}"; else
            say "note: packages not installed (non-Debian host): ${missing[*]}"
        fi
    fi
}

ensure_postgres
ensure_connections
ensure_databases
ensure_redis
ensure_rabbitmq
[ $# -gt 0 ] && ensure_extra_packages "$@"
say "PostgreSQL, Redis and RabbitMQ are up"
