"""Time `runlens import http://…` from a real `mlflow server` (newest release) holding N runs × M points.

    .venv/latest/bin/python bench/rest_import.py [runs=100] [points=1000]
Needs `npm run build` first. Prints the logging time, then the import's summary and wall time.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test" / "interop"))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from reference_server import ReferenceServer  # noqa: E402

CLI = Path(__file__).resolve().parents[1] / "dist" / "cli.js"


def main(runs=100, points=1000):
    tmp = Path(tempfile.mkdtemp(prefix="runlens-rest-bench-"))
    ref = ReferenceServer(tmp)
    try:
        client = mlflow.MlflowClient(tracking_uri=ref.url)
        exp = client.create_experiment("bench")
        t0 = time.time()
        for i in range(runs):
            r = client.create_run(exp, run_name=f"r{i}")
            for start in range(0, points, 1000):
                client.log_batch(r.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(start, min(points, start + 1000))])
            client.log_param(r.info.run_id, "i", str(i))
            client.set_terminated(r.info.run_id)
        print(f"logged {runs} runs x {points} points in {time.time() - t0:.1f} s")
        t0 = time.time()
        out = subprocess.run(["node", str(CLI), "import", ref.url, "--root", str(tmp / "store")], capture_output=True, text=True, check=True)
        print(out.stdout.strip())
        print(f"import: {time.time() - t0:.1f} s")
    finally:
        ref.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
