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
CLI = ROOT / "dist" / "cli.js"
PY = Path(sys.executable)

def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_health(url, proc, timeout=180):
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


class Target:
    def __init__(self, kind, workdir):
        self.kind = kind
        self.dir = Path(workdir) / kind
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.url = None

    def start(self):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.dir / "server.log", "ab")
        t0 = time.perf_counter()
        if self.kind == "runlens":
            cmd = ["node", str(CLI), "serve", "--port", str(port), "--root", str(self.dir / "mlruns")]
        else:
            cmd = [str(PY.parent / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{self.dir / 'mlflow.db'}",
                   "--artifacts-destination", str(self.dir / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=self.dir, start_new_session=True)
        _wait_health(self.url, self.proc)
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

