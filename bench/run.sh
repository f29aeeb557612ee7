#!/usr/bin/env bash
# `npm run bench`: Runlens side by side with the real `mlflow server`, then Runlens alone with a
# lean HTTP client. Writes bench/RESULTS.md. `--smoke` runs tiny sizes into a temp file (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
bash scripts/setup-python.sh >&2
# The newest mlflow is what a user would `pip install` and serve today.
PY=.venv/latest/bin/python
if [ ! -x "$PY" ]; then
  echo "bench: the newest mlflow did not install here; cannot run mlflow server for the comparison" >&2
  exit 1
fi
if [ "${1:-}" = "--smoke" ]; then
  out="$(mktemp --suffix=.md)"
  "$PY" bench/sidebyside.py --smoke --out "$out"
  node bench/http-runlens.mjs --smoke --append "$out"
  echo "bench smoke: OK ($out)"
else
  "$PY" bench/sidebyside.py --out bench/RESULTS.md "$@"
  node bench/http-runlens.mjs --append bench/RESULTS.md
fi
