#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries (initdb, pg_ctl) for the interop tests against
# `mlflow server` on PostgreSQL (test/interop/pg_server.py starts a throwaway cluster per test
# module; no system cluster is used). A no-op when they are there.
set -euo pipefail
have() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
if have; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup-postgres: installing postgresql with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
  echo "setup-postgres: WARNING: PostgreSQL is not installed and cannot be installed here (needs root and apt-get); the PostgreSQL interop tests are skipped" >&2
  exit 0
fi
have || { echo "setup-postgres: postgresql installed but initdb not found" >&2; exit 1; }
