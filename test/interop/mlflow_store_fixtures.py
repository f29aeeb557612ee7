"""Stores written by the running client and our reader's dump of them, for the reader interop tests.

Each store is made by test/fixtures/make_mlflow_stores.py (an `mlflow.db` and a legacy `mlruns/` file
store), cached per client version and script hash under the temp folder (artifact URIs in a store are
absolute, so it is made where it stays). Our side is test/support/dumpMlflowSource.ts bundled with
esbuild (as dist/cli.js is, sql.js's WASM beside it), run with node; it prints all a source reads as JSON.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT

FIXTURES = ROOT / "test" / "fixtures"
sys.path.insert(0, str(FIXTURES))
import mlflow_compat  # noqa: E402,F401  (before mlflow opens a SQL store)

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

import mlflow  # noqa: E402

# "db-paged": the same mlflow.db read as a large one is (history left in the file, read page by page).
KINDS = ["db", "db-paged", "mlruns"]
PAGED = {"RUNLENS_MLFLOWDB_MAX_IMAGE_BYTES": "1"}


def _fixture_key():
    h = hashlib.sha256()
    for name in ("make_mlflow_stores.py", "mlflow_compat.py"):
        h.update((FIXTURES / name).read_bytes())
    return f"{mlflow.__version__}-{h.hexdigest()[:12]}"


def _store_dir(kind):
    out = Path(tempfile.gettempdir()) / "runlens-mlflow-stores" / _fixture_key() / kind
    if not (out / ".complete").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        subprocess.run([sys.executable, str(FIXTURES / "make_mlflow_stores.py"), kind, str(out)], check=True, capture_output=True, timeout=300)
        (out / ".complete").write_text("")
    return out


def store_path(kind):
    d = _store_dir(kind)
    return d / ("mlflow.db" if kind == "db" else "mlruns")


def store_uri(kind):
    return f"sqlite:///{store_path(kind)}" if kind == "db" else str(store_path(kind))


@pytest.fixture(scope="session")
def dumper(tmp_path_factory):
    out = tmp_path_factory.mktemp("dump")
    subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(ROOT / "test" / "support" / "dumpMlflowSource.ts"), "--bundle", "--platform=node", "--target=node20", f"--outfile={out / 'dump.js'}", "--log-level=warning"],
        check=True,
        cwd=ROOT,
    )
    shutil.copy(ROOT / "node_modules" / "sql.js" / "dist" / "sql-wasm.wasm", out / "sql-wasm.wasm")

    def dump(path, *args, env=None):
        # --no-concurrent-recompilation: see src/domain/nodeExit.ts (Node can hang at exit after a large dump).
        r = subprocess.run(["node", "--no-concurrent-recompilation", str(out / "dump.js"), str(path), *args], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    return dump


def tags_of(items):
    return {t["key"]: t["value"] for t in items}


def artifact_tree(client, run_id, path=None):
    """Every (path, is_dir) under a run's artifact root, as the client lists it."""
    out = []
    for f in client.list_artifacts(run_id, path):
        out.append((f.path, f.is_dir))
        if f.is_dir:
            out += artifact_tree(client, run_id, f.path)
    return out
