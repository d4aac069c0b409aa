#!/usr/bin/env bash
# Starts the local Redis and PostgreSQL the test suite talks to, when they are not running yet.
# Installs them from Debian's packages when missing (needs root, as on CI machines).
set -euo pipefail

REDIS_HOST=127.0.0.1
REDIS_PORT=6379

redis_up() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
pg_up() { pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "Please install $* (e.g. sudo apt-get install $*)" >&2
    return 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if redis_up; then
  echo "redis: running on $REDIS_HOST:$REDIS_PORT"
else
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p /tmp/fanfare-redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /tmp/fanfare-redis --logfile /tmp/fanfare-redis/redis.log
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "redis: failed to start, see /tmp/fanfare-redis/redis.log" >&2; exit 1; }
  echo "redis: started on $REDIS_HOST:$REDIS_PORT"
fi

if pg_up; then
  echo "postgresql: running on 127.0.0.1:5432"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 100); do pg_up && break; sleep 0.1; done
  pg_up || { echo "postgresql: failed to start" >&2; exit 1; }
  echo "postgresql: started on 127.0.0.1:5432"
else
  echo "postgresql: not reachable on 127.0.0.1:5432 and no local cluster to start." >&2
  echo "Install PostgreSQL (Debian: apt-get install postgresql) with trust auth for 127.0.0.1," >&2
  echo "or set TEST_DATABASE_URL to a server the tests may create databases on." >&2
  [ -n "${TEST_DATABASE_URL:-}" ] || exit 1
fi
