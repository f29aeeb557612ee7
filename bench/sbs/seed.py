"""Seeding every server with the same rows: bulk SQL into mlflow server's own schema (its REST path
manages ~8 runs/s here, so 100k runs through it would take hours), the REST API for the servers
that have no such path here (Runlens, FastTrackML), through a Node client that keeps it server-bound.
No timestamp is 0: FastTrackML refuses 0 as a missing timestamp."""
import sqlite3
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from sbs.servers import ROOT


def seed_row(i):
    """Must match one() in bench/seed-rest.mjs."""
    return {
        "name": f"run-{i}",
        "acc": ((i * 7919) % 10007) / 10007,
        "loss": ((i * 104729) % 10007) / 10007,
        "model": ["cnn", "mlp", "rnn", "vit"][i % 4],
        "lr": str([0.1, 0.01, 0.001][i % 3]),
        "team": "a" if i % 2 else "b",
    }


def seed_rest(t, exp_id, start, end, now):
    subprocess.run(["node", str(ROOT / "bench" / "seed-rest.mjs"), t.url, exp_id, str(start), str(end), str(now)], check=True)


def seed_mlflow(t, exp_id, start, end, now):
    """Bulk SQL into mlflow's own schema: the same rows its REST API would have written."""
    db = sqlite3.connect(t.dir / "mlflow.db", timeout=60)
    runs, params, tags, latest, metrics = [], [], [], [], []
    for i in range(start, end):
        r = seed_row(i)
        rid = uuid.uuid4().hex
        runs.append((rid, r["name"], "UNKNOWN", "", "", "bench", "FINISHED", now + i, now + i, "", "active",
                     f"mlflow-artifacts:/{exp_id}/{rid}/artifacts", int(exp_id)))
        params += [("model", r["model"], rid), ("lr", r["lr"], rid)]
        tags += [("team", r["team"], rid), ("mlflow.runName", r["name"], rid), ("mlflow.user", "bench", rid)]
        for k in ("acc", "loss"):
            latest.append((k, r[k], now, 0, 0, rid))
            metrics.append((k, r[k], now, rid, 0, 0))
    with db:
        db.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
        db.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)", latest)
        db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
    db.close()


def seed_all(targets, exp_ids, start, end):
    """Seeds every target at once (seeding is not measured); returns {kind: seconds}."""
    now = int(time.time() * 1000)

    def one(t):
        fn = seed_mlflow if t.kind == "mlflow" else seed_rest
        t0 = time.perf_counter()
        fn(t, exp_ids[t.kind], start, end, now)
        return t.kind, time.perf_counter() - t0

    with ThreadPoolExecutor(len(targets)) as pool:
        return dict(pool.map(one, targets))


def seed_history(t, points):
    """One run with a `points`-long metric: through log_batch over REST, or bulk SQL for mlflow."""
    run = t.client.create_run("0")
    rid = run.info.run_id
    now = int(time.time() * 1000)
    if t.kind != "mlflow":
        api = f"{t.url}/api/2.0/mlflow/runs/log-batch"
        s = requests.Session()
        for start in range(0, points, 1000):
            s.post(api, json={"run_id": rid, "metrics": [{"key": "loss", "value": (i % 1000) / 1000, "timestamp": now + i, "step": i} for i in range(start, min(points, start + 1000))]}).raise_for_status()
    else:
        db = sqlite3.connect(t.dir / "mlflow.db", timeout=60)
        with db:
            db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,0)",
                           (("loss", (i % 1000) / 1000, now + i, rid, i) for i in range(points)))
            db.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('loss', ?, ?, ?, 0, ?)", ((points - 1) % 1000 / 1000, now + points - 1, points - 1, rid))
        db.close()
    return rid
