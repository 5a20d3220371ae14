#!/usr/bin/env bash
# The whole suite, as `make test` runs it on a fresh machine:
#  1. installs the system packages the tests need (PostgreSQL, Chromium, ClamAV and its
#     test files, xmlsec1 for SAML, ...) when missing;
#  2. starts a throwaway PostgreSQL on loopback, owned by this run and removed after it;
#  3. runs every test on SQLite, then again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/clamd ] || need+=(clamav-daemon)
[ -d /usr/share/clamav-testfiles ] || need+=(clamav-testfiles)
[ -f /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$(mktemp -d /tmp/kluis-pg.XXXXXX)
pg_port=${KLUIS_TEST_PG_PORT:-55432}
as_pg() {
  # PostgreSQL refuses to run as root; run it as the `postgres` system user if we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap cleanup EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U kluis --auth=trust -E UTF8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=off" start >/dev/null
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U kluis kluis_test

status=0
echo "== the suite on SQLite"
KLUIS_TEST_DATABASE=sqlite .venv/bin/pytest -q "$@" || status=$?
echo "== the tests that reach the database, again on PostgreSQL"
KLUIS_TEST_DATABASE="postgresql+asyncpg://kluis@127.0.0.1:$pg_port/kluis_test" \
  .venv/bin/pytest -q -m database "$@" || status=$?
exit $status
