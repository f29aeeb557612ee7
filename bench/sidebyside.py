"""Runlens vs the real `mlflow server`, same client, same workload, same machine, same run.

Each target gets its own loopback port and a fresh store: `runlens serve` on its embedded store,
`mlflow server` on SQLite with its default artifact proxy. Every scenario runs against both,
alternating which goes first, several times; we report the median, the spread (min–max) and the
ratio mlflow/runlens (above 1 means Runlens is faster). Big stores are seeded identically and
fast: Runlens through its REST API, mlflow server by bulk SQL into its own schema (its REST path
manages ~8 runs/s here, so seeding 100k runs through it would take hours).

Usage: python bench/sidebyside.py --out bench/RESULTS.md [--smoke]
"""
import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# A bounded wait per request. Searches run without retries (a retry would hide a slow answer);
# other calls keep a few, since mlflow server answers 503 while its workers are saturated.
SEARCH_TIMEOUT_S = 120
SLOW_SAMPLE_S = 30  # after one sample this slow, a target is not asked again for that workload
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(SEARCH_TIMEOUT_S)
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

from sbs.report import Results, write_report  # noqa: E402
from sbs.servers import Target  # noqa: E402
from sbs.traces import BIG_TRACE_ID, otlp_batches, otlp_big_trace, post_json, post_otlp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "dist" / "cli.js"
PY = Path(sys.executable)



def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


TIMED_OUT = []  # (kind, what) for the report


def alternate(targets, reps, fn, what="", unit_ms=False):
    """Runs fn(target, rep) for each target, alternating order per repetition. A request that
    times out is recorded as the timeout (a lower bound), the server restarted (it may still be
    busy with it), and that target is not asked again for this workload."""
    samples = {t.kind: [] for t in targets}
    gave_up = set()
    for rep in range(reps):
        order = targets if rep % 2 == 0 else list(reversed(targets))
        for t in order:
            if t.kind in gave_up:
                continue
            t.use()
            try:
                sample = fn(t, rep)
                samples[t.kind].append(sample)
                if unit_ms and sample > SLOW_SAMPLE_S * 1000:
                    gave_up.add(t.kind)
            except Exception as err:  # noqa: BLE001 - a timeout surfaces as MlflowException or requests' errors
                if not unit_ms or ("timed out" not in str(err).lower() and "timeout" not in type(err).__name__.lower()):
                    raise
                samples[t.kind].append(SEARCH_TIMEOUT_S * 1000)
                TIMED_OUT.append((t.kind, what))
                gave_up.add(t.kind)
                t.stop()
                t.start()
    return samples


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


# ---- scenarios -----------------------------------------------------------------------------------

def ingest_once(t, rep, n_runs):
    c = t.client
    exp = c.create_experiment(f"ingest-{rep}-{uuid.uuid4().hex[:6]}")
    now = int(time.time() * 1000)

    def one(i):
        run = c.create_run(exp)
        c.log_batch(run.info.run_id,
                    params=[Param(f"param_{k}", f"v{i}-{k}") for k in range(20)],
                    tags=[RunTag(f"tag_{k}", f"t{k}") for k in range(10)])
        metrics = [Metric(f"metric_{k}", float(s % 97), now + s, s) for k in range(10) for s in range(1000)]
        c.log_batch(run.info.run_id, metrics=metrics)  # the client splits this into 10 requests of 1000
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


SEARCHES = [
    ("metric filter, order_by metric", "metrics.acc > 0.5", ["metrics.acc DESC"]),
    ("metric + param filter, order_by metric", "metrics.acc > 0.5 and params.model = 'cnn'", ["metrics.acc DESC"]),
    ("param filter, order_by param + metric", "params.lr = '0.01'", ["params.model ASC", "metrics.loss DESC"]),
]


def seed_row(i):
    return {
        "name": f"run-{i}",
        "acc": ((i * 7919) % 10007) / 10007,
        "loss": ((i * 104729) % 10007) / 10007,
        "model": ["cnn", "mlp", "rnn", "vit"][i % 4],
        "lr": str([0.1, 0.01, 0.001][i % 3]),
        "team": "a" if i % 2 else "b",
    }


def seed_runlens(t, exp_id, start, end):
    """Through the REST API, 16 concurrent clients (what any client could do)."""
    import requests

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16)
    session.mount("http://", adapter)
    api = f"{t.url}/api/2.0/mlflow"
    now = int(time.time() * 1000)

    def one(i):
        r = seed_row(i)
        run = session.post(f"{api}/runs/create", json={"experiment_id": exp_id, "run_name": r["name"], "start_time": now + i}).json()
        rid = run["run"]["info"]["run_id"]
        resp = session.post(f"{api}/runs/log-batch", json={
            "run_id": rid,
            "metrics": [{"key": "acc", "value": r["acc"], "timestamp": now, "step": 0},
                        {"key": "loss", "value": r["loss"], "timestamp": now, "step": 0}],
            "params": [{"key": "model", "value": r["model"]}, {"key": "lr", "value": r["lr"]}],
            "tags": [{"key": "team", "value": r["team"]}],
        })
        resp.raise_for_status()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(start, end)))


def seed_mlflow(t, exp_id, start, end):
    """Bulk SQL into mlflow's own schema: the same rows its REST API would have written."""
    db = sqlite3.connect(t.dir / "mlflow.db", timeout=60)
    now = int(time.time() * 1000)
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


def seed_history(t, points):
    """One run with a `points`-long metric: Runlens via log_batch, mlflow via bulk SQL."""
    run = t.client.create_run("0")
    rid = run.info.run_id
    now = int(time.time() * 1000)
    if t.kind == "runlens":
        import requests

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


def bulk_interval(t, rid):
    url = f"{t.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={rid}&metric_key=loss&max_results=1000"
    with urllib.request.urlopen(url) as r:
        body = json.loads(r.read())
    return len(body.get("metrics", []))



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes so CI keeps the scripts alive")
    ap.add_argument("--sections", default="all", help="comma-separated subset: ingest-search, big-store, history, artifacts, traces, start-up")
    args = ap.parse_args()
    smoke = args.smoke
    reps = 2 if smoke else 3
    sizes = {
        "ingest_runs": 1 if smoke else 5,
        "loop_steps": 50 if smoke else 500,
        "search_tiers": [200, 400] if smoke else [10_000, 100_000],
        "history_points": 20_000 if smoke else 1_000_000,
        "big_mb": 2 if smoke else 100,
        "small_files": 20 if smoke else 1000,
        "traces": 300 if smoke else 10_000,
        "big_trace_spans": 500 if smoke else 5000,
    }
    work = Path(tempfile.mkdtemp(prefix="runlens-sbs-"))
    results = Results()
    targets = [Target("runlens", work).start(), Target("mlflow", work).start()]
    notes = []
    state = {}

    wanted = None if args.sections == "all" else set(args.sections.split(","))
    section_keys = {"ingest and search": "ingest-search", "big-store loop and ceilings": "big-store", "history": "history", "artifacts": "artifacts", "traces": "traces", "start-up": "start-up"}

    def guarded(name, fn):
        """A failing section is reported, and the next one still runs."""
        if wanted is not None and section_keys[name] not in wanted:
            return
        try:
            fn()
        except Exception as err:  # noqa: BLE001
            notes.append(f"- **{name} failed**: {type(err).__name__}: {str(err)[:300]}")
            for t in targets:  # leave both servers in a usable state for what follows
                if t.proc.poll() is not None:
                    t.start()

    try:
        def section_0():
            # 1. ingest
            s = alternate(targets, reps, lambda t, rep: ingest_once(t, rep, sizes["ingest_runs"]))
            results.add("ingest", f"{sizes['ingest_runs']} runs × (20 params, 10 tags, 10 metrics × 1000 steps) via log_batch", "s", s)
            lat = state["lat"] = alternate(targets, reps, lambda t, rep: loop_once(t, rep, sizes["loop_steps"]))
            results.add("ingest", f"training loop: single log_metric, p50 over {sizes['loop_steps']} calls", "ms", {k: [percentile(x, 0.5) for x in v] for k, v in lat.items()})
            results.add("ingest", "training loop: single log_metric, p95", "ms", {k: [percentile(x, 0.95) for x in v] for k, v in lat.items()})

            # 2. search at two store sizes, seeded identically
            exp_ids = state.setdefault("exp_ids", {})
            seeded = 0
            for tier in sizes["search_tiers"]:
                for t in targets:
                    t.use()
                    if t.kind not in exp_ids:
                        exp_ids[t.kind] = t.client.create_experiment("search")
                    secs, _ = timed(seed_runlens if t.kind == "runlens" else seed_mlflow, t, exp_ids[t.kind], seeded, tier)
                    notes.append(f"- seeding {tier - seeded:,} runs into {t.kind}: {secs:.1f} s ({'REST, 16 clients' if t.kind == 'runlens' else 'bulk SQL'})")
                seeded = tier
                for label, flt, order in SEARCHES:
                    def q(t, rep, flt=flt, order=order):
                        d, runs = timed(t.client.search_runs, [exp_ids[t.kind]], flt, max_results=100, order_by=order)
                        return d * 1000
                    what = f"{tier:,} runs: {label}, 100 results"
                    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
                    try:
                        results.add("search", what, "ms", alternate(targets, reps * 2, q, what, unit_ms=True))
                    finally:
                        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3"
                def q_pandas(t, rep):
                    d, df = timed(mlflow.search_runs, [exp_ids[t.kind]], "metrics.acc > 0.9", max_results=1000, order_by=["metrics.acc DESC"])
                    return d * 1000
                what = f"{tier:,} runs: mlflow.search_runs → pandas, 1000 results"
                os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
                try:
                    results.add("search", what, "ms", alternate(targets, reps, q_pandas, what, unit_ms=True))
                finally:
                    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3"

        guarded('ingest and search', section_0)
        def section_1():
            lat, exp_ids = state["lat"], state["exp_ids"]
            # Per-write cost with the big store in place (compare with the fresh-store loop above).
            lat_big = alternate(targets, reps, lambda t, rep: loop_once(t, rep, sizes["loop_steps"]))
            results.add("ingest", f"training loop p50 with the {sizes['search_tiers'][-1]:,}-run store", "ms", {k: [percentile(x, 0.5) for x in v] for k, v in lat_big.items()})
            for kind in ("runlens", "mlflow"):
                notes.append(f"- {kind}: single log_metric p50 {statistics.median([percentile(x, 0.5) for x in lat[kind]]):.2f} ms on a fresh store, "
                             f"{statistics.median([percentile(x, 0.5) for x in lat_big[kind]]):.2f} ms with {sizes['search_tiers'][-1]:,} runs")

            # Server ceilings without the Python client (autocannon, 16 connections).
            ceilings = {}
            for t in targets:
                t.use()
                run = t.client.create_run(exp_ids[t.kind])
                out = subprocess.run(["node", str(ROOT / "bench" / "load.mjs"), t.url, run.info.run_id, exp_ids[t.kind], str(3 if smoke else 10)],
                                     capture_output=True, text=True, check=True).stdout
                ceilings[t.kind] = json.loads(out.strip().splitlines()[-1])
            for i, row in enumerate(ceilings["runlens"]):
                other = ceilings["mlflow"][i]
                p99 = lambda r: f"p99 {r['p99']} ms" if r["total"] else "none answered in time"
                results.add("ceiling", f"autocannon, 16 connections: {row['title']} (runlens {p99(row)}; mlflow {p99(other)})", "req/s",
                            {"runlens": [row["requestsPerSec"]], "mlflow": [other["requestsPerSec"]]}, higher_is_better=True)
            # A saturated server keeps working through its queue (mlflow server then refuses
            # requests for minutes: its DB pool is exhausted): start both afresh.
            for t in targets:
                t.stop()
                t.start()
                for kind, r in (("runlens", row), ("mlflow", other)):
                    if r["failed"]:
                        notes.append(f"- {kind}: {r['failed']} of {r['total']} requests failed in '{r['title']}'")

        guarded('big-store loop and ceilings', section_1)
        def section_2():
            # 3. metric history
            rids = {}
            for t in targets:
                t.use()
                rids[t.kind] = seed_history(t, sizes["history_points"])
            def hist(t, rep):
                d, h = timed(t.client.get_metric_history, rids[t.kind], "loss")
                assert len(h) == sizes["history_points"], (t.kind, len(h))
                return d * 1000
            results.add("history", f"get_metric_history, {sizes['history_points']:,} points", "ms", alternate(targets, reps, hist))
            def chart(t, rep):
                d, n = timed(bulk_interval, t, rids[t.kind])
                return d * 1000
            results.add("history", "chart query (get-history-bulk-interval, 1000 points)", "ms", alternate(targets, reps * 2, chart))

        guarded('history', section_2)
        def section_3():
            # 4. artifacts
            src = work / "art"
            src.mkdir()
            big = src / "big.bin"
            with open(big, "wb") as f:
                for _ in range(sizes["big_mb"]):
                    f.write(os.urandom(1 << 20))
            small_dir = src / "small"
            small_dir.mkdir()
            for i in range(sizes["small_files"]):
                (small_dir / f"f{i:04d}.bin").write_bytes(os.urandom(10 * 1024))
            big_sha = hashlib.sha256(big.read_bytes()).hexdigest()
            art_runs = {}
            def up_big(t, rep):
                run = t.client.create_run("0")
                art_runs.setdefault(t.kind, run.info.run_id)
                d, _ = timed(t.client.log_artifact, run.info.run_id, str(big))
                return d
            def down_big(t, rep):
                dst = work / f"dl-{t.kind}-{rep}"
                d, p = timed(mlflow.artifacts.download_artifacts, run_id=art_runs[t.kind], artifact_path="big.bin", dst_path=str(dst))
                assert hashlib.sha256(Path(p).read_bytes()).hexdigest() == big_sha
                shutil.rmtree(dst)
                return d
            results.add("artifacts", f"upload 1 × {sizes['big_mb']} MB", "s", alternate(targets, reps, up_big))
            results.add("artifacts", f"download 1 × {sizes['big_mb']} MB", "s", alternate(targets, reps, down_big))
            small_runs = {}
            def up_small(t, rep):
                run = t.client.create_run("0")
                small_runs.setdefault(t.kind, run.info.run_id)
                d, _ = timed(t.client.log_artifacts, run.info.run_id, str(small_dir), "small")
                return d
            def down_small(t, rep):
                dst = work / f"dls-{t.kind}-{rep}"
                d, p = timed(mlflow.artifacts.download_artifacts, run_id=small_runs[t.kind], artifact_path="small", dst_path=str(dst))
                assert len(os.listdir(p)) == sizes["small_files"]
                shutil.rmtree(dst)
                return d
            results.add("artifacts", f"upload {sizes['small_files']} × 10 KB (log_artifacts)", "s", alternate(targets, reps, up_small))
            results.add("artifacts", f"download {sizes['small_files']} × 10 KB (download_artifacts)", "s", alternate(targets, reps, down_small))

        guarded('artifacts', section_3)

        def section_traces():
            # 5. traces: the same OTLP exports into both servers, then search and open.
            exp_ids = {}
            for t in targets:
                t.use()
                exp_ids[t.kind] = t.client.create_experiment(f"traces-{uuid.uuid4().hex[:6]}")
                for body in otlp_batches(sizes["traces"], 500):
                    post_otlp(t.url, exp_ids[t.kind], body)
                post_otlp(t.url, exp_ids[t.kind], otlp_big_trace(sizes["big_trace_spans"]))
            def search(filter_string, expected, order_by=None):
                def run(t, rep):
                    body = {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_ids[t.kind]}}], "max_results": 100}
                    if filter_string:
                        body["filter"] = filter_string
                    if order_by:
                        body["order_by"] = order_by
                    d, res = timed(post_json, f"{t.url}/api/3.0/mlflow/traces/search", body)
                    assert len(res.get("traces", [])) == min(100, expected), (t.kind, filter_string, len(res.get("traces", [])))
                    return d * 1000
                return run
            n = f"{sizes['traces']:,} traces"
            results.add("traces", f"search_traces first page, {n}", "ms", alternate(targets, reps * 2, search(None, sizes["traces"] + 1)))
            results.add("traces", f"search_traces span.name filter (1 in 10 match), {n}", "ms", alternate(targets, reps * 2, search("span.name = 'rare_tool'", (sizes["traces"] + 9) // 10)))
            results.add("traces", f"search_traces status + time filter, order by latency, {n}", "ms",
                        alternate(targets, reps * 2, search("trace.status = 'OK' AND trace.timestamp_ms > 0", sizes["traces"] + 1, ["execution_time_ms DESC"])))
            def open_big(t, rep):
                d, tr = timed(mlflow.get_trace, BIG_TRACE_ID)
                assert len(tr.data.spans) == sizes["big_trace_spans"], (t.kind, len(tr.data.spans))
                return d * 1000
            results.add("traces", f"get_trace with {sizes['big_trace_spans']:,} spans (client)", "ms", alternate(targets, reps, open_big))

        guarded('traces', section_traces)
        def section_4():
            exp_ids = state["exp_ids"]
            # 5. start-up with the big store, and memory after loading it
            startup = {t.kind: [] for t in targets}
            rss = {t.kind: [] for t in targets}
            for rep in range(reps):
                for t in (targets if rep % 2 == 0 else list(reversed(targets))):
                    t.stop()
                    t.start()
                    t.use()
                    t.client.search_runs([exp_ids[t.kind]], max_results=1)  # touch the store
                    startup[t.kind].append(t.startup_s)
                    rss[t.kind].append(t.rss_mb())
            results.add("start-up", f"process start → /health OK, {sizes['search_tiers'][-1]:,}-run store", "s", startup)
            results.add("start-up", "RSS after loading (process tree)", "MB", rss)
        guarded('start-up', section_4)
    finally:
        for t in targets:
            t.stop()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    runlens_version = json.loads((ROOT / "package.json").read_text())["version"]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} × {cpu}, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GB RAM, {platform.system()} {platform.release()}",
        "node": node,
        "runlens": runlens_version,
        "smoke": smoke,
        "notes": [
            *([f"**Timed out** (no answer within {SEARCH_TIMEOUT_S} s; the figure shown is that lower bound, the ratio a lower bound too):"]
              + [f"- {kind}: {what}" for kind, what in TIMED_OUT] + [""] if TIMED_OUT else []),
            "Seeding (not part of any figure):", *notes],
    }
    write_report(results, args.out, meta)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
