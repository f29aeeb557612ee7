"""Interop fixtures: a real `runlens serve` process and the real, unchanged `mlflow` client."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "dist" / "cli.js"

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


class RunlensServer:
    def __init__(self, root: Path, extra_args=None):
        self.root = root
        self.extra_args = list(extra_args or [])
        self.proc = None
        self.url = None
        self.log = root.parent / "server.log"

    def start(self):
        assert CLI.exists(), f"build the CLI first: {CLI}"
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["node", str(CLI), "serve", "--port", "0", "--root", str(self.root), *self.extra_args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"runlens serve exited: {self.log.read_text()}")
                continue
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                return self
        raise RuntimeError("runlens serve did not start in 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            assert self.proc.wait(timeout=30) == 0, self.log.read_text()


@pytest.fixture(scope="session")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="runlens-interop-"))
    srv = RunlensServer(tmp / "mlruns").start()
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def mlflow(server, monkeypatch):
    import mlflow as mlflow_module

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    mlflow_module.set_tracking_uri(server.url)
    yield mlflow_module
    while mlflow_module.active_run():
        mlflow_module.end_run()


@pytest.fixture()
def client(mlflow):
    return mlflow.MlflowClient()


@pytest.fixture()
def exp_name():
    return f"interop-{uuid.uuid4().hex[:10]}"
