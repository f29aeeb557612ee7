"""N OS processes logging to one server at once: total acknowledged writes/s and latency percentiles."""
import json
import subprocess
import sys
from pathlib import Path

from sbs.measure import percentile

CHILD = Path(__file__).with_name("writer_proc.py")


class Writers:
    """n writer processes, each with a run on every target; run(t) releases them together on t."""

    def __init__(self, targets, exp_ids, n):
        self.index = {t.kind: i for i, t in enumerate(targets)}
        self.acked = {}  # run id -> points acknowledged so far
        args = [f"{t.url}={exp_ids[t.kind]}" for t in targets]
        self.procs = [subprocess.Popen([sys.executable, str(CHILD), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for _ in range(n)]
        for p in self.procs:
            line = p.stdout.readline()
            if line.strip() != "ready":
                self.close()
                raise RuntimeError(f"writer did not start: {line!r}")

    def run(self, t, seconds):
        """Returns {"rate": writes/s, "p50": ms, "p99": ms, "errors": n}. Every run is checked to hold
        at least as many points as were acknowledged (an acknowledged write is never lost)."""
        for p in self.procs:
            p.stdin.write(f"go {self.index[t.kind]} {seconds}\n")
            p.stdin.flush()
        outs = [json.loads(p.stdout.readline()) for p in self.procs]
        lat = [x for o in outs for x in o["latencies_ms"]]
        if not lat:
            raise RuntimeError(f"{t.kind}: no write acknowledged by {len(self.procs)} writers")
        for o in outs:
            self.acked[o["run_id"]] = self.acked.get(o["run_id"], 0) + len(o["latencies_ms"])
            got = len(t.client.get_metric_history(o["run_id"], "loss"))
            if got < self.acked[o["run_id"]]:
                raise RuntimeError(f"{t.kind}: run {o['run_id']} holds {got} points, {self.acked[o['run_id']]} were acknowledged")
        elapsed = max(o["elapsed_s"] for o in outs)
        return {"rate": len(lat) / elapsed, "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99), "errors": sum(o["errors"] for o in outs)}

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.stdin.close()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
