"""The servers under test: start on a free loopback port, wait for /health, stop the whole process tree."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow

ROOT = Path(__file__).resolve().parents[2]
# RUNLENS_BENCH_CLI: another build's cli.js (a copy of dist/ from before a change) in place of this one.
CLI = Path(os.environ.get("RUNLENS_BENCH_CLI") or ROOT / "dist" / "cli.js")
PY = Path(sys.executable)

def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_health(url, proc, timeout=300):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


def _tree(pid):
    """A process and all its descendants (mlflow server runs uvicorn workers and job runners)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # field 4; the name in () may hold spaces
        children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += children.get(p, [])
    return pids


def _tree_rss_mb(pid):
    total = 0
    for p in _tree(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


FML = ROOT / ".venv" / "fasttrackml" / "bin" / "fml"
KINDS = ("runlens", "mlflow", "fasttrackml")
LABELS = {"runlens": "runlens", "mlflow": "mlflow server", "fasttrackml": "FastTrackML"}


class Target:
    """One server. `name` tells apart two servers of one kind (the loop-delay run has its own)."""

    def __init__(self, kind, workdir, name=None, env=None):
        self.kind = kind
        self.name = name or kind
        self.dir = Path(workdir) / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.proc = None
        self.url = None

    def command(self, port):
        if self.kind == "runlens":
            # RUNLENS_BENCH_CPU_PROF=<dir>: a V8 CPU profile per server process, written when it stops.
            prof = os.environ.get("RUNLENS_BENCH_CPU_PROF")
            flags = ["--cpu-prof", "--cpu-prof-dir", prof] if prof else []
            return ["node", *flags, str(CLI), "serve", "--port", str(port), "--root", str(self.dir / "mlruns")]
        if self.kind == "mlflow":
            # Artifacts proxied through the server, as Runlens serves them (the client never sees the path).
            return [str(PY.parent / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{self.dir / 'mlflow.db'}",
                    "--serve-artifacts", "--artifacts-destination", str(self.dir / "mlartifacts"),
                    "--host", "127.0.0.1", "--port", str(port),
                    # Its 4 default workers, but a loaded machine must not get them killed as unresponsive
                    # while they import (uvicorn's 5 s health check restarts them in a loop there).
                    "--uvicorn-opts", "--timeout-worker-healthcheck 120"]
        # FastTrackML has no artifact proxy: runs get a local artifact root the client writes to itself.
        return [str(FML), "server", "--listen-address", f"127.0.0.1:{port}",
                "--database-uri", f"sqlite://{self.dir / 'fasttrackml.db'}", "--default-artifact-root", str(self.dir / "artifacts")]

    def start(self):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.dir / "server.log", "ab")
        t0 = time.perf_counter()
        env = {**os.environ, **self.env} if self.env else None
        self.proc = subprocess.Popen(self.command(port), stdout=log, stderr=log, cwd=self.dir, env=env, start_new_session=True)
        try:
            _wait_health(self.url, self.proc)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise
        self.startup_s = time.perf_counter() - t0
        self.client = mlflow.MlflowClient(self.url)
        return self

    def use(self):
        # mlflow-artifacts:/ URIs resolve against the global tracking URI.
        os.environ["MLFLOW_TRACKING_URI"] = self.url
        mlflow.set_tracking_uri(self.url)
        return self.client

    def rss_mb(self):
        return _tree_rss_mb(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            family = _tree(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            for p in family:  # helpers that left the process group
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass

