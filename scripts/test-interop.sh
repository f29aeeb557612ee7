#!/usr/bin/env bash
# Interop tests: the real `mlflow` client (pinned, newest and last 2.x) against a real `runlens serve`.
# Assumes `npm run build` has produced dist/cli.js; installs the Python venvs if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-python.sh
bash scripts/setup-postgres.sh
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
status=0
for venv in .venv/pinned .venv/latest .venv/v2; do
  [ -x "$venv/bin/python" ] || continue
  version="$("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')"
  echo "== interop: mlflow $version ($venv)"
  (cd test/interop && "../../$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .) || status=1
done
exit $status
