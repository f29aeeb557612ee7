"""A throwaway PostgreSQL cluster and the pinned `mlflow server` on it, as a team would run MLflow.

The cluster lives in a temp directory on a free loopback port and is removed on stop. initdb
refuses to run as root, so as root the cluster is created and run as the `postgres` user.
The server is MLflow 3.6.0 from `.venv/pgserver` (the pinned venv's SQLAlchemy 2.1 breaks
`mlflow server` 3.6; scripts/setup-python.sh builds that venv with psycopg2 and SQLAlchemy < 2.1).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER_VENV = ROOT / ".venv" / "pgserver"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


def available():
    """Why the PostgreSQL-backed server cannot run here, or None when it can."""
    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        return "PostgreSQL is not installed (scripts/setup-postgres.sh)"
    if not (PG_SERVER_VENV / "bin" / "mlflow").exists():
        return ".venv/pgserver is missing (scripts/setup-python.sh)"
    return None


class PostgresCluster:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="runlens-pg-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
        opts = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -F -c fsync=off -c max_connections=200"
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "pg.log"), "-w", "start"])
        self.started = True

    def _run(self, argv):
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)

    def create_db(self, name):
        self._run([_pg_bin("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self):
        if self.started:
            try:
                self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
            finally:
                self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class PgMlflowServer:
    """`mlflow server` on a database of `cluster`, artifacts proxied into a temp dir; `basic_auth` adds `--app-name basic-auth`."""

    ADMIN = ("admin", "password1234")

    def __init__(self, cluster, tmp: Path, db_name="mlflow", basic_auth=False):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        uri = cluster.create_db(db_name)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.artifacts = tmp / "artifacts"
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        extra = []
        if basic_auth:
            auth_db = cluster.create_db(f"{db_name}_auth")
            ini = tmp / "basic_auth.ini"
            ini.write_text(
                "[mlflow]\ndefault_permission = READ\n"
                f"database_uri = {auth_db}\n"
                f"admin_username = {self.ADMIN[0]}\nadmin_password = {self.ADMIN[1]}\n"
                "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            )
            env["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
            # The auth app's CSRF protection wants a fixed key (several workers must agree on it).
            env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "runlens-interop-only"
            extra = ["--app-name", "basic-auth"]
        self.log = tmp / "mlflow-server.log"
        self.proc = subprocess.Popen(
            [str(PG_SERVER_VENV / "bin" / "mlflow"), "server", "--backend-store-uri", uri,
             "--artifacts-destination", str(self.artifacts), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", *extra],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"), cwd=tmp, env=env, start_new_session=True)

    def wait_ready(self):
        """Blocks until /health answers (servers started together start in parallel)."""
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return self
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.log.read_text()[-3000:])
                time.sleep(0.5)
        raise RuntimeError("mlflow server on PostgreSQL did not start: " + self.log.read_text()[-2000:])

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
