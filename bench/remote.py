"""Issue 18's measurements against a team's MLflow server: the pinned `mlflow server` on a throwaway
PostgreSQL cluster (test/interop/pg_server.py), with its artifact proxy.

- Time to first tree items from a remote with N runs: what the explorer does when a team server's
  experiment is expanded — list the experiments, then the first page (200 runs, newest first) —
  through the same REST client the extension uses (out/src/client/trackingClient.js), 5 times.
  The runs are bulk-seeded into the server's database (bench/seed-remote-runs.sql).
- Publish throughput: `runlens publish` of a local experiment (runs with params, tags, 3 metrics ×
  1,000 steps, an artifact) seeded by the real client; runs/s and metric points/s from its summary.

Usage: .venv/pinned/bin/python bench/remote.py [--runs 10000] [--publish-runs 40] [--append bench/RESULTS.md]
(`npm run compile-tests` and `npm run build` first; `bash scripts/setup-postgres.sh` installs PostgreSQL.)
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "interop"))
import pg_server  # noqa: E402

CLI = ROOT / "dist" / "cli.js"
CLIENT_JS = ROOT / "out" / "src" / "client" / "trackingClient.js"
SUMMARY = re.compile(r"published (\d+) runs \((\d+) new, (\d+) updated\), (\d+) metric points, (\d+) artifacts")

FIRST_ITEMS = r"""
const { TrackingClient } = require(process.argv[1]);
(async () => {
  const url = process.argv[2];
  const times = [];
  let shown = 0;
  for (let i = 0; i < 5; i++) {
    // A fresh client each time: no connection or answer is reused between samples.
    const client = new TrackingClient(url);
    const t0 = process.hrtime.bigint();
    const exps = await client.listExperiments('ACTIVE_ONLY');
    const exp = exps.find((e) => e.name === process.argv[3]);
    const page = await client.searchRuns({ experimentIds: [exp.experiment_id], orderBy: ['attributes.start_time DESC'], maxResults: 200, viewType: 'ACTIVE_ONLY' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    shown = page.runs.length;
  }
  console.log(JSON.stringify({ times, shown }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def psql(cluster, *args):
    argv = [pg_server._pg_bin("psql") or "psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-d", "mlflow", "-v", "ON_ERROR_STOP=1", *args]
    if cluster.as_root:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def first_tree_items(cluster, server, runs):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=server.url)
    exp = client.create_experiment("remote-10k")
    t0 = time.time()
    seed = Path(tempfile.mkdtemp()) / "seed.sql"
    seed.write_text((ROOT / "bench" / "seed-remote-runs.sql").read_text())
    os.chmod(seed.parent, 0o755)
    os.chmod(seed, 0o644)
    psql(cluster, "-v", f"exp={exp}", "-v", f"n={runs}", "-f", str(seed))
    seeded = time.time() - t0
    total = len(client.search_runs([exp], max_results=50000))
    assert total == runs, f"seeded {total} runs, wanted {runs}"
    out = subprocess.run(["node", "-e", FIRST_ITEMS, str(CLIENT_JS), server.url, "remote-10k"], check=True, capture_output=True, text=True)
    got = json.loads(out.stdout)
    t = sorted(got["times"])
    return {"runs": runs, "seeded_s": seeded, "median_ms": statistics.median(t), "min_ms": t[0], "max_ms": t[-1], "shown": got["shown"]}


def publish_throughput(server, n_runs, tmp):
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    root = tmp / "local"
    local = subprocess.Popen(["node", str(CLI), "serve", "--root", str(root), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    for line in local.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    try:
        # log_artifact resolves the run's mlflow-artifacts: URI against the global tracking URI.
        mlflow.set_tracking_uri(url)
        client = mlflow.MlflowClient(tracking_uri=url)
        exp = client.create_experiment("publish-bench")
        artifact = tmp / "model.txt"
        artifact.write_text("x" * 10_000)
        for i in range(n_runs):
            r = client.create_run(exp, run_name=f"run-{i}")
            client.log_batch(r.info.run_id, params=[Param(f"p{k}", str(i * k)) for k in range(10)], tags=[RunTag("stage", "bench")],
                             metrics=[Metric(f"m{k}", float(s), 1_700_000_000_000 + s, s) for k in range(3) for s in range(1000)])
            client.log_artifact(r.info.run_id, str(artifact))
            client.set_terminated(r.info.run_id)
    finally:
        local.terminate()
        local.wait(timeout=60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    t0 = time.time()
    res = subprocess.run(["node", str(CLI), "publish", "--root", str(root), "--to", server.url, "--experiment", "publish-bench"], capture_output=True, text=True, env=env, timeout=1800)
    secs = time.time() - t0
    assert res.returncode == 0, res.stderr
    m = SUMMARY.search(res.stdout)
    assert m, res.stdout
    runs, new, _updated, points, artifacts = (int(x) for x in m.groups())
    assert runs == n_runs and new == n_runs and points == n_runs * 3000, res.stdout
    t1 = time.time()
    again = subprocess.run(["node", str(CLI), "publish", "--root", str(root), "--to", server.url, "--experiment", "publish-bench"], capture_output=True, text=True, env=env, timeout=1800)
    again_s = time.time() - t1
    assert again.returncode == 0 and "(0 new, 0 updated)" in again.stdout, again.stdout
    return {"runs": runs, "points": points, "artifacts": artifacts, "secs": secs, "again_s": again_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--publish-runs", type=int, default=40)
    ap.add_argument("--append")
    a = ap.parse_args()
    why = pg_server.available()
    if why:
        sys.exit(f"bench/remote.py: {why}")
    tmp = Path(tempfile.mkdtemp(prefix="runlens-remote-bench-"))
    cluster = pg_server.PostgresCluster()
    server = None
    try:
        server = pg_server.PgMlflowServer(cluster, tmp / "server").wait_ready()
        tree = first_tree_items(cluster, server, a.runs)
        print(f"first tree items: {tree}", flush=True)
        pub = publish_throughput(server, a.publish_runs, tmp)
    finally:
        if server:
            server.stop()
        cluster.stop()
    rows = [
        ("remote", f"time to first tree items: list experiments + first 200 of {tree['runs']:,} runs (newest first), fresh client, 5 samples",
         f"median {tree['median_ms']:.0f} ms (min {tree['min_ms']:.0f}, max {tree['max_ms']:.0f}); {tree['shown']} runs shown"),
        ("remote", f"runlens publish: {pub['runs']} runs × (10 params, 1 tag, 3 metrics × 1,000 steps, 1 artifact of 10 KB)",
         f"{pub['secs']:.1f} s: {pub['runs'] / pub['secs']:.1f} runs/s, {pub['points'] / pub['secs']:,.0f} metric points/s, {pub['artifacts']} artifacts"),
        ("remote", "the same publish again (every run already there: 0 new)", f"{pub['again_s']:.1f} s"),
    ]
    table = "\n".join(["| scenario | workload | result |", "|---|---|---|", *[f"| {r[0]} | {r[1]} | {r[2]} |" for r in rows]])
    print(table)
    if a.append:
        with open(a.append, "a") as f:
            f.write("\n## A team's MLflow server (pinned mlflow server on PostgreSQL, artifact proxy)\n\n"
                    f"Seeding {tree['runs']:,} runs into its database took {tree['seeded_s']:.1f} s (SQL bulk insert).\n\n{table}\n")


if __name__ == "__main__":
    main()
