#!/usr/bin/env bash
# `npm run bench`: Runlens side by side with the real `mlflow server` and FastTrackML (same mlflow
# client, all three servers running, rotated order), then Runlens alone with a lean HTTP client.
# Writes bench/RESULTS.md. `--smoke` runs tiny sizes into a temp file (CI). Extra arguments go to
# bench/sidebyside.py (e.g. `--sections writers,history`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
# Builds .venv/latest (the newest mlflow: client and `mlflow server`) and .venv/fasttrackml when missing.
bash scripts/setup-python.sh >&2
PY=.venv/latest/bin/python
if [ ! -x "$PY" ]; then
  echo "bench: the newest mlflow did not install here; cannot run mlflow server for the comparison" >&2
  exit 1
fi
servers=runlens,mlflow,fasttrackml
if [ ! -x .venv/fasttrackml/bin/fml ]; then
  echo "bench: WARNING: no FastTrackML here (.venv/fasttrackml); comparing with mlflow server only" >&2
  servers=runlens,mlflow
fi
status=0
if [ "${1:-}" = "--smoke" ]; then
  shift
  out="$(mktemp --suffix=.md)"
  "$PY" bench/sidebyside.py --smoke --servers "$servers" --out "$out" "$@"
  node --no-concurrent-recompilation bench/http-runlens.mjs --smoke --append "$out"
  node --no-concurrent-recompilation bench/http-runlens.mjs --smoke --governance-only --append "$out"
  echo "bench smoke: OK ($out)"
else
  start=$(date +%s)
  "$PY" bench/sidebyside.py --servers "$servers" --out bench/RESULTS.md "$@" || status=$?
  # 20k runs keeps the whole bench near 25 minutes on a loaded 2-core machine; the 100k-run
  # figures are the side-by-side's.
  node --no-concurrent-recompilation bench/http-runlens.mjs --runs 20000 --append bench/RESULTS.md || status=$?
  # The governance ledger's cost on the ingest scenario (issue 19: under 5%).
  node --no-concurrent-recompilation bench/http-runlens.mjs --governance-only --append bench/RESULTS.md || status=$?
  # A team's MLflow server on PostgreSQL: time to first tree items at 10k runs, publish throughput (issue 18).
  if bash scripts/setup-postgres.sh >&2 && [ -x .venv/pinned/bin/python ]; then
    npm run --silent compile-tests
    .venv/pinned/bin/python bench/remote.py --runs 10000 --publish-runs 40 --append bench/RESULTS.md || status=$?
  else
    echo "bench: WARNING: no PostgreSQL here; the team-server section is left out" >&2
  fi
  # Every order_by shape's first page at 100k runs (issue 20); the store is seeded once and kept.
  npm run --silent compile-tests
  node --no-concurrent-recompilation out/test/support/searchShapes.js --runs 100000 --append bench/RESULTS.md || status=$?
  echo "bench: done in $(( $(date +%s) - start )) s (exit $status)"
fi
exit "$status"
