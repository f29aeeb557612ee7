"""A real `mlflow server` (SQLite, proxied artifacts) to compare Runlens' answers against."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class ReferenceServer:
    def __init__(self, tmp: Path, artifacts_destination="default"):
        """Serves `tmp/mlflow.db`; artifacts in `tmp/art` unless given (None: mlflow server's own default)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.tmp = tmp
        if artifacts_destination == "default":
            artifacts_destination = tmp / "art"
        destination = [] if artifacts_destination is None else ["--artifacts-destination", str(artifacts_destination)]
        # The newest release is the reference (mlflow 3.6's server does not start with its SQLAlchemy).
        newest = Path(__file__).resolve().parents[2] / ".venv" / "latest" / "bin" / "mlflow"
        exe = newest if newest.exists() else Path(sys.executable).parent / "mlflow"
        self.proc = subprocess.Popen(
            [str(exe), "server", "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}", *destination,
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=open(tmp / "mlflow-server.log", "wb"), cwd=tmp, start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError((tmp / "mlflow-server.log").read_text()[-2000:])
                time.sleep(0.5)
        raise RuntimeError("mlflow server did not start")

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # A loaded machine can keep uvicorn's workers from exiting in time; it's only the reference.
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
