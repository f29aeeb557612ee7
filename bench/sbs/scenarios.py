"""The client-side workloads, each timed on one target through the real mlflow client."""
import json
import time
import urllib.request
import uuid

from mlflow.entities import Metric, Param, RunTag

from sbs.measure import timed


def ingest_once(t, rep, n_runs, steps=1000):
    c = t.client
    exp = c.create_experiment(f"ingest-{rep}-{uuid.uuid4().hex[:6]}")
    now = int(time.time() * 1000)

    def one(i):
        run = c.create_run(exp)
        c.log_batch(run.info.run_id,
                    params=[Param(f"param_{k}", f"v{i}-{k}") for k in range(20)],
                    tags=[RunTag(f"tag_{k}", f"t{k}") for k in range(10)])
        metrics = [Metric(f"metric_{k}", float(s % 97), now + s, s) for k in range(10) for s in range(steps)]
        c.log_batch(run.info.run_id, metrics=metrics)  # the client splits this into requests of 1000
        c.set_terminated(run.info.run_id)

    secs, _ = timed(lambda: [one(i) for i in range(n_runs)])
    return secs


def loop_once(t, rep, n_steps):
    c = t.client
    run = c.create_run("0")
    lat = []
    for s in range(n_steps):
        d, _ = timed(c.log_metric, run.info.run_id, "loss", 1.0 / (s + 1), step=s)
        lat.append(d * 1000)
    return lat


# (label, filter, order_by, which seeded rows match: see seed_row in sbs/seed.py)
SEARCHES = [
    ("metric filter, order_by metric", "metrics.acc > 0.5", ["metrics.acc DESC"], lambda r: r["acc"] > 0.5),
    ("metric + param filter, order_by metric", "metrics.acc > 0.5 and params.model = 'cnn'", ["metrics.acc DESC"],
     lambda r: r["acc"] > 0.5 and r["model"] == "cnn"),
    ("param filter, order_by param + metric", "params.lr = '0.01'", ["params.model ASC", "metrics.loss DESC"], lambda r: r["lr"] == "0.01"),
]


def bulk_interval(t, rid):
    url = f"{t.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={rid}&metric_key=loss&max_results=1000"
    with urllib.request.urlopen(url) as r:
        body = json.loads(r.read())
    return len(body.get("metrics", []))



