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
DATABASES=(${SANCTUM_DATABASES:-sanctum sanctum_test})
TEST_VHOST=${SANCTUM_TEST_VHOST:-sanctum_test}

say() { printf '\033[1m[system]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[system] %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=0
apt_install() {
    if ! is_root || ! has_apt; then
        die "missing: $* -- install the Debian/Ubuntu packages '$*' (or run 'make' as root on Debian/Ubuntu to have them installed)"
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
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

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! port_open "$PGHOST" "$PGPORT"; then
        apt_install postgresql postgresql-client
    fi
    command -v pg_dump >/dev/null 2>&1 || apt_install postgresql-client
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

ensure_databases() {
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
    command -v redis-check-rdb >/dev/null 2>&1 || apt_install redis-tools
    if ! port_open 127.0.0.1 6379; then
        say "starting Redis"
        mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
            --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
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
        if ! rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx "$TEST_VHOST"; then
            say "creating RabbitMQ vhost $TEST_VHOST"
            rabbitmqctl -q add_vhost "$TEST_VHOST" >/dev/null
        fi
        rabbitmqctl -q set_permissions -p "$TEST_VHOST" guest '.*' '.*' '.*' >/dev/null
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
ensure_databases
ensure_redis
ensure_rabbitmq
[ $# -gt 0 ] && ensure_extra_packages "$@"
say "PostgreSQL, Redis and RabbitMQ are up"
