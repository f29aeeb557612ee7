"""Builds a 10,000-run `mlflow.db` for the reader benchmark (bench/mlflowdb/read_big_db.mjs).

    python make_big_db.py <out_dir> [runs=10000] [steps=100]

The schema and a few seed runs come from the running venv's real client (so the alembic revision
is real); the rest are copies of a seed run made with sqlite3, each with its own id, ~20 params,
10 tags, and 10 metrics of `steps` steps each (history rows and latest values).
"""
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")


def seed(db: Path) -> None:
    import mlflow

    uri = f"sqlite:///{db}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench")
    for i in range(3):
        with mlflow.start_run(run_name=f"seed-{i}"):
            mlflow.log_params({f"param_{p}": f"value-{p}-{i}" for p in range(20)})
            mlflow.set_tags({f"tag_{t}": f"tag-value-{t}" for t in range(10)})
            mlflow.log_metric("seed", 1.0)


def multiply(db: Path, runs: int, steps: int) -> None:
    con = sqlite3.connect(db)
    exp_id, template = con.execute("SELECT experiment_id, run_uuid FROM runs ORDER BY start_time LIMIT 1").fetchone()
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone()))
    params = con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (template,)).fetchall()
    tags = con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (template,)).fetchall()
    existing = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    t0 = 1_700_000_000_000
    for n in range(existing, runs):
        rid = uuid.uuid4().hex
        r = dict(row, run_uuid=rid, name=f"run-{n}", start_time=t0 + n * 1000, end_time=t0 + n * 1000 + 500,
                 artifact_uri=row["artifact_uri"].replace(template, rid))
        con.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", [r[c] for c in cols])
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", [(k, v, rid) for k, v in params])
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                        [(k, f"run-{n}" if k == "mlflow.runName" else v, rid) for k, v in tags])
        history = [(f"metric_{m}", (n % 97 + m) / (s + 1), t0 + n * 1000 + s, rid, s, 0) for m in range(10) for s in range(steps)]
        con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", history)
        con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
                        [(k, v, ts, s, nan, rid) for (k, v, ts, _, s, nan) in history if s == steps - 1])
        if n % 1000 == 0:
            con.commit()
    con.commit()
    con.close()


if __name__ == "__main__":
    out = Path(sys.argv[1]).resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    out.mkdir(parents=True, exist_ok=True)
    db = out / "mlflow.db"
    if db.exists():
        db.unlink()
    started = time.time()
    seed(db)
    multiply(db, runs, steps)
    print(f"{db}: {runs} runs, {steps} steps x 10 metrics, {db.stat().st_size / 1e6:.0f} MB in {time.time() - started:.0f} s")
