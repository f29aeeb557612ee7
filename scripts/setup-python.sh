#!/usr/bin/env bash
# Installs the real `mlflow` client into project-local venvs for the interop tests:
#   .venv/pinned  mlflow==$MLFLOW_PINNED (must succeed)
#   .venv/latest  the newest mlflow that installs here (a failure is a warning, not an error)
#   .venv/v2      mlflow==$MLFLOW_V2, the last 2.x client (a failure is a warning, not an error)
# Re-running is cheap: a venv whose marker matches its requirement is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

PINNED="${MLFLOW_PINNED:-3.6.0}"
# The last 2.x release (2.22.5 is the newest 2.22 patch on PyPI).
V2="${MLFLOW_V2:-2.22.5}"
PYTHON="${PYTHON:-python3}"

ensure_python() {
  if "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then return; fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup-python: installing python3-venv with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
  else
    echo "setup-python: $PYTHON lacks venv/ensurepip; install python3-venv" >&2
    exit 1
  fi
}

# make_venv <dir> <requirement...>
make_venv() {
  local dir="$1"; shift
  # The marker changes with the requirement and with test/interop/requirements.txt.
  local want="$* $(sha256sum test/interop/requirements.txt | cut -c1-16)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.runlens-req" 2>/dev/null)" = "$want" ]; then return 0; fi
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@" -r test/interop/requirements.txt
  echo "$want" > "$dir/.runlens-req"
}

ensure_python
mkdir -p .venv
make_venv .venv/pinned "mlflow==$PINNED"
echo "setup-python: .venv/pinned has mlflow $(.venv/pinned/bin/python -c 'import mlflow; print(mlflow.__version__)')"

# `mlflow server` of the pinned release on PostgreSQL (test/interop/pg_server.py), with basic
# auth: the pinned venv's own server does not start (its resolver picks SQLAlchemy 2.1, which
# mlflow 3.6's server predates), so the server gets its own venv with SQLAlchemy < 2.1.
if make_venv .venv/pgserver "mlflow[auth]==$PINNED" psycopg2-binary "sqlalchemy<2.1" 2>/tmp/runlens-pgserver-venv.log; then
  echo "setup-python: .venv/pgserver has mlflow server $(.venv/pgserver/bin/python -c 'import mlflow; print(mlflow.__version__)') for PostgreSQL"
else
  echo "setup-python: WARNING: .venv/pgserver did not install; the PostgreSQL interop tests are skipped" >&2
  tail -5 /tmp/runlens-pgserver-venv.log >&2 || true
  rm -rf .venv/pgserver
fi

# The newest release that installs here (cached once made; delete .venv/latest to refresh).
if make_venv .venv/latest "mlflow" --upgrade 2>/tmp/runlens-latest-venv.log; then
  echo "setup-python: .venv/latest has mlflow $(.venv/latest/bin/python -c 'import mlflow; print(mlflow.__version__)')"
else
  echo "setup-python: WARNING: the newest mlflow did not install here; interop runs on the pinned client only" >&2
  tail -5 /tmp/runlens-latest-venv.log >&2 || true
  rm -rf .venv/latest
fi

# The last 2.x client: users still on it must keep working (legacy trace endpoints, stages).
# mlflow 2.22's span processor predates OpenTelemetry SDK 1.34 (newer ones fail every span with
# "'MlflowSpanProcessor' object has no attribute '_shutdown'", against mlflow server too): pin it
# as a 2.x user's environment from that time would have it.
if make_venv .venv/v2 "mlflow==$V2" "opentelemetry-api<1.34" "opentelemetry-sdk<1.34" 2>/tmp/runlens-v2-venv.log; then
  echo "setup-python: .venv/v2 has mlflow $(.venv/v2/bin/python -c 'import mlflow; print(mlflow.__version__)')"
else
  echo "setup-python: WARNING: mlflow==$V2 did not install here; interop skips the 2.x client" >&2
  tail -5 /tmp/runlens-v2-venv.log >&2 || true
  rm -rf .venv/v2
fi

# FastTrackML 0.6.0 (G-Research's Go MLflow-compatible server), the third server of `npm run bench`.
# Its wheel ships the Go binary `fml` and declares mlflow<3, which only its Python helpers use:
# --no-deps keeps an old mlflow out of its venv. A failure is a warning: the bench then runs
# without it and says so.
FASTTRACKML="${FASTTRACKML_VERSION:-0.6.0}"
if [ -x .venv/fasttrackml/bin/fml ] && [ "$(cat .venv/fasttrackml/.runlens-req 2>/dev/null)" = "fasttrackml==$FASTTRACKML" ]; then
  :
elif rm -rf .venv/fasttrackml && "$PYTHON" -m venv .venv/fasttrackml \
    && .venv/fasttrackml/bin/python -m pip install -q --disable-pip-version-check --no-deps "fasttrackml==$FASTTRACKML" 2>/tmp/runlens-fasttrackml-venv.log \
    && .venv/fasttrackml/bin/fml --version >/dev/null; then
  echo "fasttrackml==$FASTTRACKML" > .venv/fasttrackml/.runlens-req
else
  echo "setup-python: WARNING: fasttrackml==$FASTTRACKML did not install here; the bench runs without FastTrackML" >&2
  tail -5 /tmp/runlens-fasttrackml-venv.log >&2 || true
  rm -rf .venv/fasttrackml
fi
if [ -x .venv/fasttrackml/bin/fml ]; then echo "setup-python: .venv/fasttrackml has $(.venv/fasttrackml/bin/fml --version)"; fi
