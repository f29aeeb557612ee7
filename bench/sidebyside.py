"""Runlens vs the real `mlflow server` vs FastTrackML: same client, same workload, same machine, same run.

Each server gets its own loopback port and a fresh store: `runlens serve` on its embedded store,
`mlflow server` on SQLite with its artifacts proxied (`--serve-artifacts --artifacts-destination`),
FastTrackML (`fml server`, G-Research's Go drop-in, from its own venv) on SQLite. All three run at
once; every scenario runs against each of them, the order rotated per repetition; we report the
median, the spread (min–max) and the ratio peer/runlens (above 1 means Runlens is faster). Big
stores hold the same rows everywhere (bench/sbs/seed.py says how each is seeded).

Usage: python bench/sidebyside.py --out bench/RESULTS.md [--smoke] [--sections a,b] [--servers runlens,mlflow]
"""
import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
# A bounded wait per request. Searches run without retries (a retry would hide a slow answer);
# other calls keep a few, since mlflow server answers 503 while its workers are saturated.
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "120"

import mlflow  # noqa: E402

from sbs.loopdelay import loop_delay_during  # noqa: E402
from sbs.measure import CAVEATS, FAILED, TIMED_OUT, QUIET_RULE, alternate, is_timeout, percentile, settle, timed  # noqa: E402
from sbs.report import Results, write_report  # noqa: E402
from sbs.scenarios import SEARCHES, bulk_interval, ingest_once, loop_once  # noqa: E402
from sbs.seed import seed_all, seed_history, seed_row  # noqa: E402
from sbs.servers import FML, KINDS, LABELS, ROOT, Target  # noqa: E402
from sbs.traces import BIG_TRACE_ID, otlp_batches, otlp_big_trace, post_json, post_otlp  # noqa: E402
from sbs.writers import Writers  # noqa: E402

SECTIONS = ("ingest", "writers", "search", "big-store", "history", "artifacts", "traces", "start-up", "ceilings", "loop-delay")
NO_PROXY = ("FastTrackML has no artifact proxy: its runs get a `file://` artifact root and the client copies the files there itself, "
            "with no HTTP and no server involved, so this is a local file copy, not a server figure (ratio in parentheses)")


def no_retries(fn, timeout_s):
    """Runs fn with the client's retries off and its request timeout at timeout_s."""
    saved = os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"], os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"]
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"], os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "0", str(timeout_s)
    try:
        return fn()
    finally:
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"], os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = saved


def server_answer(t, exp_id, flt, order):
    """The status and body a server gives the search, for a footnote."""
    body = json.dumps({"experiment_ids": [exp_id], "filter": flt, "order_by": order, "max_results": 100}).encode()
    req = urllib.request.Request(f"{t.url}/api/2.0/mlflow/runs/search", data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30):
            return None
    except urllib.error.HTTPError as err:
        return f"HTTP {err.code}: {err.read().decode(errors='replace')[:160]}"
    except OSError:
        return None


def tail(row):
    return f"p99 {row['p99']} ms" if row["total"] else "none answered"


def p(q):
    return lambda lat: {k: [percentile(x, q) for x in v] for k, v in lat.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes so CI keeps the scripts alive")
    ap.add_argument("--sections", default="all", help="comma-separated subset of: " + ", ".join(SECTIONS))
    ap.add_argument("--servers", default=",".join(KINDS), help="comma-separated subset of: " + ", ".join(KINDS))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one workload size")
    args = ap.parse_args()
    smoke = args.smoke
    reps = 2 if smoke else 3
    # Full sizes fit about 25 minutes on this 2-core machine while other work loads it (load
    # average ~30): `mlflow server` is the slow one everywhere (a 1000-point log_batch takes ~3 s
    # there when loaded, a start ~4 min). --set key=value overrides one (e.g. --set search_tiers=10000,100000).
    sizes = {
        "ingest_runs": 1 if smoke else 2,
        "loop_steps": 50 if smoke else 100,
        "writers": 8,
        "writer_s": 1.5 if smoke else 3,
        "search_tiers": [200, 400] if smoke else [10_000, 30_000],
        "search_timeout_s": 30,
        "history_points": 20_000 if smoke else 100_000,
        "big_mb": 2 if smoke else 50,
        "small_files": 20 if smoke else 200,
        "traces": 300 if smoke else 2000,
        "big_trace_spans": 500 if smoke else 2000,
        "ceiling_s": 2 if smoke else 3,
        "startup_reps": 1,
        "loop_delay_runs": 5 if smoke else 100,
        "loop_delay_steps": 200,
    }
    for item in args.set:
        key, value = item.split("=", 1)
        if key not in sizes:
            raise SystemExit(f"sidebyside: no size {key!r} (one of {', '.join(sizes)})")
        sizes[key] = [int(v) for v in value.split(",")] if isinstance(sizes[key], list) else type(sizes[key])(value)
    kinds = [k for k in KINDS if k in args.servers.split(",")]
    if "fasttrackml" in kinds and not FML.exists():
        raise SystemExit(f"sidebyside: {FML} is missing; run scripts/setup-python.sh (or pass --servers runlens,mlflow)")
    work = Path(tempfile.mkdtemp(prefix="runlens-sbs-"))
    results = Results()
    targets = [Target(k, work) for k in kinds]
    try:
        for t in targets:
            t.start()
    except BaseException:
        for t in targets:
            t.stop()
        raise
    notes, state = [], {}
    wanted = set(SECTIONS) if args.sections == "all" else set(args.sections.split(","))
    wall = {}

    def quiet_before(what):
        """Each section starts on a quiet machine (see settle): the wait is reported, never timed.
        Not in a smoke run: its figures are no result, and CI runs it beside other suites."""
        if smoke:
            return
        secs, quiet = settle()
        settled = state.setdefault("settled", {})
        settled[what] = settled.get(what, 0) + secs
        if not quiet:
            notes.append(f"- the machine did not go quiet before {what} (waited {secs:.0f} s): its figures were taken under load")

    def guarded(name, fn):
        """A failing section is reported, and the next one still runs."""
        if name not in wanted:
            return
        quiet_before(name)
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as err:  # noqa: BLE001
            notes.append(f"- **{name} failed**: {type(err).__name__}: {str(err)[:300]}")
            for t in targets:  # leave every server usable for what follows
                if t.proc.poll() is not None:
                    t.start()
        wall[name] = time.perf_counter() - t0
        # The report so far after every section: a run cut short still leaves its figures.
        write(args, results, kinds, notes, state, wall, smoke, quiet=True)

    def ingest():
        what = f"{sizes['ingest_runs']} runs × (20 params, 10 tags, 10 metrics × 1000 steps) via log_batch"
        results.add("ingest", what, "s", alternate(targets, reps, lambda t, rep: ingest_once(t, rep, sizes["ingest_runs"]), what))
        what = f"training loop: single log_metric round trip, p50 over {sizes['loop_steps']} calls"
        lat = state["lat"] = alternate(targets, reps, lambda t, rep: loop_once(t, rep, sizes["loop_steps"]), what)
        results.add("ingest", what, "ms", p(0.5)(lat))
        results.add("ingest", "training loop: single log_metric round trip, p95", "ms", p(0.95)(lat))

    def writers():
        n, secs = sizes["writers"], sizes["writer_s"]
        exp = {t.kind: t.client.create_experiment(f"writers-{uuid.uuid4().hex[:6]}") for t in targets}
        what = f"{n} OS processes, each its own mlflow client logging single log_metric for {secs:g} s: acknowledged writes/s"
        pool = Writers(targets, exp, n)
        try:
            out = alternate(targets, reps, lambda t, rep: pool.run(t, secs), what)
        finally:
            pool.close()
        results.add("writers", what, "writes/s", {k: [o["rate"] for o in v] for k, v in out.items()}, higher_is_better=True)
        for q in ("p50", "p99"):
            results.add("writers", f"{n} writers: log_metric latency {q}", "ms", {k: [o[q] for o in v] for k, v in out.items()})
        for k, v in out.items():
            if any(o["errors"] for o in v):
                notes.append(f"- {LABELS[k]}: {sum(o['errors'] for o in v)} log_metric calls failed among the {n} writers")

    def search():
        exp_ids = state["exp_ids"] = {t.kind: t.client.create_experiment("search") for t in targets}
        seeded = 0
        for tier in sizes["search_tiers"]:
            for kind, secs in seed_all(targets, exp_ids, seeded, tier).items():
                notes.append(f"- seeding {tier - seeded:,} runs into {LABELS[kind]}: {secs:.1f} s ({'bulk SQL' if kind == 'mlflow' else 'REST, Node client, 16 in flight'})")
            seeded = tier
            quiet_before(f"search at {tier:,} runs")
            for label, flt, order, match in SEARCHES:
                expected = min(100, sum(1 for i in range(tier) if match(seed_row(i))))

                def q(t, rep, flt=flt, order=order, expected=expected, label=label):
                    try:
                        d, runs = timed(t.client.search_runs, [exp_ids[t.kind]], flt, max_results=100, order_by=order)
                    except Exception as err:  # noqa: BLE001 - the client's retries hide the server's answer
                        if is_timeout(err):
                            raise
                        raise RuntimeError(server_answer(t, exp_ids[t.kind], flt, order) or str(err)) from err
                    assert len(runs) == expected, (t.kind, label, len(runs), expected)
                    return d * 1000
                what = f"{tier:,} runs: {label}, 100 results"
                results.add("search", what, "ms", no_retries(lambda: alternate(targets, reps, q, what, unit_ms=True, timeout_s=sizes["search_timeout_s"]), sizes["search_timeout_s"]))

            def q_pandas(t, rep):
                d, df = timed(mlflow.search_runs, [exp_ids[t.kind]], "metrics.acc > 0.9", max_results=1000, order_by=["metrics.acc DESC"])
                return d * 1000
            what = f"{tier:,} runs: mlflow.search_runs → pandas, 1000 results"
            results.add("search", what, "ms", no_retries(lambda: alternate(targets, reps, q_pandas, what, unit_ms=True, timeout_s=sizes["search_timeout_s"]), sizes["search_timeout_s"]))

    def big_store():
        lat, exp_ids = state.get("lat"), state["exp_ids"]
        what = f"training loop p50 with the {sizes['search_tiers'][-1]:,}-run store"
        lat_big = alternate(targets, reps, lambda t, rep: loop_once(t, rep, sizes["loop_steps"]), what)
        results.add("ingest", what, "ms", p(0.5)(lat_big))
        for kind in kinds:
            if lat and lat.get(kind) and lat_big.get(kind):
                notes.append(f"- {LABELS[kind]}: single log_metric p50 {statistics.median(p(0.5)(lat)[kind]):.2f} ms on a fresh store, "
                             f"{statistics.median(p(0.5)(lat_big)[kind]):.2f} ms with {sizes['search_tiers'][-1]:,} runs")

    def ceilings_():
        # Server ceilings without the Python client (autocannon, 16 connections), one server at a
        # time. Last of the shared-server sections: a saturated mlflow server keeps working through
        # its queue and refuses requests for minutes (its DB pool is exhausted).
        exp_ids = state["exp_ids"]
        ceilings = {}
        for t in targets:
            t.use()
            run = t.client.create_run(exp_ids[t.kind])
            out = subprocess.run(["node", str(ROOT / "bench" / "load.mjs"), t.url, run.info.run_id, exp_ids[t.kind], str(sizes["ceiling_s"])],
                                 capture_output=True, text=True, check=True).stdout
            ceilings[t.kind] = json.loads(out.strip().splitlines()[-1])
        for i, row in enumerate(ceilings["runlens"]):
            p99 = "; ".join(f"{LABELS[k]} {tail(c[i])}" for k, c in ceilings.items())
            results.add("ceiling", f"autocannon, 16 connections, {sizes['ceiling_s']} s: {row['title']} ({p99})", "req/s",
                        {k: [c[i]["requestsPerSec"]] for k, c in ceilings.items()}, higher_is_better=True)
            for k, c in ceilings.items():
                if c[i]["failed"]:
                    notes.append(f"- {LABELS[k]}: {c[i]['failed']} of {c[i]['total']} requests failed in '{row['title']}'")

    def history():
        rids = {}
        for t in targets:
            t.use()
            rids[t.kind] = seed_history(t, sizes["history_points"])

        def hist(t, rep):
            d, h = timed(t.client.get_metric_history, rids[t.kind], "loss")
            assert len(h) == sizes["history_points"], (t.kind, len(h))
            return d * 1000
        what = f"get_metric_history, {sizes['history_points']:,} points"
        results.add("history", what, "ms", alternate(targets, reps, hist, what))

        def chart(t, rep):
            d, n = timed(bulk_interval, t, rids[t.kind])
            return d * 1000
        what = f"chart query (get-history-bulk-interval, 1000 of {sizes['history_points']:,} points)"
        results.add("history", what, "ms", alternate(targets, reps, chart, what))

    def artifacts():
        src = work / "art"
        src.mkdir(exist_ok=True)
        big = src / "big.bin"
        with open(big, "wb") as f:
            for _ in range(sizes["big_mb"]):
                f.write(os.urandom(1 << 20))
        small_dir = src / "small"
        small_dir.mkdir(exist_ok=True)
        for i in range(sizes["small_files"]):
            (small_dir / f"f{i:04d}.bin").write_bytes(os.urandom(10 * 1024))
        big_sha = hashlib.sha256(big.read_bytes()).hexdigest()
        art_runs, small_runs = {}, {}

        def up_big(t, rep):
            run = t.client.create_run("0")
            art_runs.setdefault(t.kind, run.info.run_id)
            return timed(t.client.log_artifact, run.info.run_id, str(big))[0]

        def down_big(t, rep):
            dst = work / f"dl-{t.kind}-{rep}"
            d, path = timed(mlflow.artifacts.download_artifacts, run_id=art_runs[t.kind], artifact_path="big.bin", dst_path=str(dst))
            assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == big_sha
            shutil.rmtree(dst)
            return d

        def up_small(t, rep):
            run = t.client.create_run("0")
            small_runs.setdefault(t.kind, run.info.run_id)
            return timed(t.client.log_artifacts, run.info.run_id, str(small_dir), "small")[0]

        def down_small(t, rep):
            dst = work / f"dls-{t.kind}-{rep}"
            d, path = timed(mlflow.artifacts.download_artifacts, run_id=small_runs[t.kind], artifact_path="small", dst_path=str(dst))
            assert len(os.listdir(path)) == sizes["small_files"]
            shutil.rmtree(dst)
            return d

        for what, fn in ((f"upload 1 × {sizes['big_mb']} MB", up_big), (f"download 1 × {sizes['big_mb']} MB", down_big),
                         (f"upload {sizes['small_files']} × 10 KB (log_artifacts)", up_small),
                         (f"download {sizes['small_files']} × 10 KB (download_artifacts)", down_small)):
            CAVEATS[("fasttrackml", what)] = NO_PROXY
            results.add("artifacts", what, "s", alternate(targets, reps, fn, what))

    def traces():
        n = f"{sizes['traces']:,} traces"
        workloads = [f"search_traces first page, {n}", f"search_traces span.name filter (1 in 10 match), {n}",
                     f"search_traces status + time filter, order by latency, {n}", f"get_trace with {sizes['big_trace_spans']:,} spans (client)"]
        exp_ids, able = {}, []
        for t in targets:
            t.use()
            exp_ids[t.kind] = t.client.create_experiment(f"traces-{uuid.uuid4().hex[:6]}")
            try:
                for body in otlp_batches(sizes["traces"], 500):
                    post_otlp(t.url, exp_ids[t.kind], body)
                post_otlp(t.url, exp_ids[t.kind], otlp_big_trace(sizes["big_trace_spans"]))
                able.append(t)
            except Exception as err:  # noqa: BLE001 - a peer without MLflow 3's trace routes
                if t.kind == "runlens":
                    raise
                for what in workloads:
                    FAILED[(t.kind, what)] = f"OTLP export to /v1/traces refused: {str(err)[:120]}"

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

        def open_big(t, rep):
            d, tr = timed(mlflow.get_trace, BIG_TRACE_ID)
            assert len(tr.data.spans) == sizes["big_trace_spans"], (t.kind, len(tr.data.spans))
            return d * 1000

        fns = [search(None, sizes["traces"] + 1), search("span.name = 'rare_tool'", (sizes["traces"] + 9) // 10),
               search("trace.status = 'OK' AND trace.timestamp_ms > 0", sizes["traces"] + 1, ["execution_time_ms DESC"]), open_big]
        for what, fn in zip(workloads, fns):
            results.add("traces", what, "ms", alternate(able, reps, fn, what))

    def start_up():
        exp_ids = state["exp_ids"]
        startup, rss = {k: [] for k in kinds}, {k: [] for k in kinds}
        for rep in range(sizes["startup_reps"]):
            for t in targets[rep % len(targets):] + targets[:rep % len(targets)]:
                t.stop()
                t.start()
                t.use()
                t.client.search_runs([exp_ids[t.kind]], max_results=1)  # touch the store
                startup[t.kind].append(t.startup_s)
                rss[t.kind].append(t.rss_mb())
        results.add("start-up", f"process start → /health OK, {sizes['search_tiers'][-1]:,}-run store", "s", startup)
        results.add("start-up", "RSS after loading (process tree)", "MB", rss)

    def loop_delay():
        runs = sizes["loop_delay_runs"]
        steps = sizes["loop_delay_steps"]
        stats, secs = loop_delay_during(work, lambda t: ingest_once(t, 0, runs, steps))
        state["loop_delay"] = (runs, steps, stats, secs)

    try:
        guarded("ingest", ingest)
        guarded("writers", writers)
        guarded("search", search)
        if "exp_ids" in state:
            guarded("big-store", big_store)
        guarded("history", history)
        guarded("artifacts", artifacts)
        guarded("traces", traces)
        if "exp_ids" in state:
            guarded("start-up", start_up)
            guarded("ceilings", ceilings_)
        guarded("loop-delay", loop_delay)
    finally:
        for t in targets:
            t.stop()
    write(args, results, kinds, notes, state, wall, smoke)
    shutil.rmtree(work, ignore_errors=True)
    failed = [n for n in notes if "failed**" in n]
    if failed:
        raise SystemExit("sidebyside: " + "; ".join(failed))


def write(args, results, kinds, notes, state, wall, smoke, quiet=False):
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    fml = subprocess.run([str(FML), "--version"], capture_output=True, text=True).stdout.strip() if "fasttrackml" in kinds else "FastTrackML not run"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    extra = []
    if "loop_delay" in state:
        runs, steps, stats, secs = state["loop_delay"]
        extra += ["", f"## Event-loop delay during a {runs}-run ingest (Runlens)", ""]
        if stats is None:
            extra.append(f"Not measured (server has no recorder): `RUNLENS_LOOP_DELAY_FILE` produced no file; the {runs}-run ingest took {secs:.1f} s.")
        else:
            extra.append(f"{runs} runs × (20 params, 10 tags, 10 metrics × {steps} steps) through the Python client in {secs:.1f} s, on a server of its own "
                         f"with `RUNLENS_LOOP_DELAY_FILE` (perf_hooks.monitorEventLoopDelay, 1 ms resolution, window opened after start-up): "
                         f"**max {stats['max_ms']} ms**, p99 {stats['p99_ms']} ms, p50 {stats['p50_ms']} ms over {stats['samples']:,} samples "
                         f"(target: no stall over 5 ms — {'met' if stats['max_ms'] <= 5 else 'missed'}).")
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} × {cpu}, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GB RAM, {platform.system()} {platform.release()}",
        "node": node,
        "runlens": json.loads((ROOT / "package.json").read_text())["version"],
        "fasttrackml": fml,
        "smoke": smoke,
        "kinds": kinds,
        "failed": FAILED,
        "caveats": CAVEATS,
        "timed_out": TIMED_OUT,
        "notes": [
            *([f"**Timed out** (no answer in time; the figure shown is that lower bound, the ratio a lower bound too):"]
              + [f"- {LABELS[kind]}: {what}" for kind, what in TIMED_OUT] + [""] if TIMED_OUT else []),
            "Seeding and notes (not part of any figure):", *notes,
            "- wall time per section: " + ", ".join(f"{k} {v:.0f} s" for k, v in wall.items()),
            *([f"- waited for the machine to go quiet ({QUIET_RULE}) before: "
               + ", ".join(f"{k} {v:.1f} s" for k, v in state["settled"].items())] if state.get("settled") else []),
            *extra],
    }
    write_report(results, args.out, meta, quiet)


if __name__ == "__main__":
    main()
