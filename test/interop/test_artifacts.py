"""Artifacts through the proxy, with the real client: round trips, big files, hostile paths, cut-off uploads."""
import hashlib
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import RunlensServer


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _request(url, method="GET", data=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_log_and_download_every_kind(mlflow, client, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "nested" / "a.csv").write_text("x,y\n1,2\n")
    (src / "nested" / "deeper" / "b.bin").write_bytes(os.urandom(4096))
    single = tmp_path / "notes.md"
    single.write_text("# notes")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="docs")
        mlflow.log_artifacts(str(src), artifact_path="data")
        mlflow.log_text("hello", "texts/hello.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "cfg/config.json")
        mlflow.log_dict({"a": 1}, "cfg/config.yaml")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        mlflow.log_figure(fig, "plots/line.png")
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "images/black.png")
        mlflow.log_table({"col": [1, 2], "name": ["a", "b"]}, "tables/t.json")
    rid = run.info.run_id

    top = {f.path: f for f in client.list_artifacts(rid)}
    assert {"notes.md", "docs", "data", "texts", "cfg", "plots", "images", "tables"} <= set(top)
    assert top["data"].is_dir and top["notes.md"].file_size == len("# notes")
    nested = [f.path for f in client.list_artifacts(rid, "data/nested")]
    assert nested == ["data/nested/a.csv", "data/nested/deeper"]

    out = Path(mlflow.artifacts.download_artifacts(run_id=rid, dst_path=str(tmp_path / "dl")))
    assert (out / "data" / "nested" / "deeper" / "b.bin").read_bytes() == (src / "nested" / "deeper" / "b.bin").read_bytes()
    assert (out / "texts" / "hello.txt").read_text() == "hello"
    assert json.loads((out / "cfg" / "config.json").read_text()) == {"a": 1, "b": [1, 2]}
    assert "a: 1" in (out / "cfg" / "config.yaml").read_text()
    assert (out / "plots" / "line.png").read_bytes()[:4] == b"\x89PNG"
    assert mlflow.artifacts.load_text(f"runs:/{rid}/texts/hello.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/cfg/config.json") == {"a": 1, "b": [1, 2]}
    assert client.get_run(rid).data.tags.get("mlflow.loggedArtifacts")  # set by log_table


def test_large_binary_round_trip(mlflow, client, exp_name, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(52):
            f.write(os.urandom(1 << 20))
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), "blobs")
    got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="blobs/big.bin", dst_path=str(tmp_path / "dl"))
    assert os.path.getsize(got) == 52 << 20
    assert _sha(got) == _sha(big)


def test_multipart_upload(mlflow, exp_name, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 << 20))
    f = tmp_path / "parts.bin"
    f.write_bytes(os.urandom((12 << 20) + 123))
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(f))
    got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="parts.bin", dst_path=str(tmp_path / "dl"))
    assert _sha(got) == _sha(f)


HOSTILE = [
    "../escape.txt",
    "1/../../escape.txt",
    "%2e%2e/escape.txt",
    "1/%2e%2e/%2e%2e/escape.txt",
    "..%2Fescape.txt",
    "1/x%00.txt",
    "1/..%5C..%5Cescape.txt",
    "1/a%5Cb.txt",
    ".runlens/store.sqlite",
    "%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_path_escapes_are_refused(server, path):
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{path}"
    status, body = _request(base, "PUT", b"pwned")
    assert status in (400, 404), (status, body)
    if status == 400:
        assert json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, _ = _request(base)
    assert status in (400, 404)
    assert not (server.root.parent / "escape.txt").exists()
    assert not (server.root / "escape.txt").exists()
    assert (server.root / ".runlens" / "store.sqlite").read_bytes() != b"pwned" if (server.root / ".runlens" / "store.sqlite").exists() else True
    # The listing endpoint refuses the same paths.
    status, _ = _request(f"{server.url}/api/2.0/mlflow-artifacts/artifacts?path={path}")
    assert status in (200, 400)
    if status == 200:
        assert json.loads(_request(f"{server.url}/api/2.0/mlflow-artifacts/artifacts?path={path}")[1]) == {}


def test_symlink_out_of_the_store_is_refused(server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    link_parent = server.root / "999" / "r" / "artifacts"
    link_parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, link_parent / "link")
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/999/r/artifacts/link"
    status, body = _request(f"{base}/secret.txt")
    assert status == 400 and json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, _ = _request(f"{base}/new.txt", "PUT", b"x")
    assert status == 400
    assert not (outside / "new.txt").exists()
    status, body = _request(f"{server.url}/api/2.0/mlflow-artifacts/artifacts?path=999/r/artifacts")
    assert "link" not in body.decode()


def test_cut_off_upload_leaves_nothing(server):
    host, port = urllib.parse.urlparse(server.url).netloc.split(":")
    path = "/api/2.0/mlflow-artifacts/artifacts/7/cut/artifacts/partial.bin"
    s = socket.create_connection((host, int(port)))
    s.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/octet-stream\r\nContent-Length: {10 << 20}\r\n\r\n".encode())
    s.sendall(os.urandom(1 << 20))
    time.sleep(0.3)
    s.close()
    status, _ = _request(f"{server.url}{path}")
    assert status == 404
    assert not (server.root / "7" / "cut" / "artifacts" / "partial.bin").exists()
    # The server notices the closed socket asynchronously; its temp file must go soon after
    # (polled, so a loaded machine does not turn a slow cleanup into a failure).
    uploads = server.root / ".runlens" / "uploads"
    deadline = time.time() + 15
    while uploads.exists() and list(uploads.iterdir()) and time.time() < deadline:
        time.sleep(0.1)
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert not (server.root / "7" / "cut" / "artifacts" / "partial.bin").exists()


def test_missing_artifact_is_404_not_500(server):
    status, body = _request(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/1/nope/artifacts/missing.txt")
    assert status == 404
    assert json.loads(body)["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_maximum_artifact_size(mlflow, tmp_path, monkeypatch):
    small = RunlensServer(tmp_path / "mlruns", extra_args=["--max-artifact-mb", "1"]).start()
    try:
        # mlflow-artifacts:/ URIs resolve against the global tracking URI: point it here.
        monkeypatch.setenv("MLFLOW_TRACKING_URI", small.url)
        mlflow.set_tracking_uri(small.url)
        client = mlflow.MlflowClient(small.url)
        run = client.create_run("0")
        ok = tmp_path / "ok.bin"
        ok.write_bytes(b"x" * 1000)
        client.log_artifact(run.info.run_id, str(ok))
        big = tmp_path / "too-big.bin"
        big.write_bytes(os.urandom(2 << 20))
        with pytest.raises(Exception) as err:
            client.log_artifact(run.info.run_id, str(big))
        assert "maximum artifact size" in str(err.value)
        assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["ok.bin"]
    finally:
        small.stop()


def test_everything_persists_across_restart(server, mlflow, client, exp_name, tmp_path, named, mlflow3):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression

    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_text("kept", "k.txt")
        info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), **named("model"), registered_model_name=f"{exp_name}-m")
    client.set_registered_model_alias(f"{exp_name}-m", "prod", "1")
    client.set_model_version_tag(f"{exp_name}-m", "1", "k", "v")
    server.stop()
    server.start()
    mlflow.set_tracking_uri(server.url)
    c = mlflow.MlflowClient(server.url)
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/k.txt") == "kept"
    if mlflow3:  # logged models are mlflow 3
        assert c.get_logged_model(info.model_id).source_run_id == run.info.run_id
    v = c.get_model_version_by_alias(f"{exp_name}-m", "prod")
    assert v.version == "1" and v.tags == {"k": "v"}
    assert mlflow.pyfunc.load_model(f"models:/{exp_name}-m@prod").predict([[2.0]])[0] == pytest.approx(2.0)
