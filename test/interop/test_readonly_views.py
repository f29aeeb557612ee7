"""`runlens serve --root <mlflow.db | mlruns/>`: an existing MLflow store served read-only, in place.

The stores are written by the running venv's real client (test/fixtures/make_mlflow_stores.py, via
test_mlflow_sources.py's cache). The reference is the same client reading the same store directly
(`sqlite:///…` or the file store path): MLflow's own store code over the same file. Every answer
of the Runlens server must match it, and every write must be refused with a message that says
how to import.
"""
import math
import shutil
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
import json

import pytest

from conftest import MLFLOW_MAJOR, RunlensServer
from mlflow_store_fixtures import artifact_tree, store_path as _store_path, store_uri as _uri

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

KINDS = ["db", "mlruns"]


@pytest.fixture(autouse=True)
def _tracking_uri_restored(monkeypatch):
    """These tests point the client's global tracking URI at stores; leave it (and its env var) as found."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module", params=KINDS)
def view(request, tmp_path_factory):
    kind = request.param
    store = _store_path(kind)
    # The server's log goes beside --root: keep it out of the cached store.
    work = tmp_path_factory.mktemp(f"view-{kind}")
    srv = RunlensServer(store, [])
    srv.log = work / "server.log"
    srv.start()
    try:
        yield kind, MlflowClient(tracking_uri=srv.url, registry_uri=srv.url), MlflowClient(tracking_uri=_uri(kind), registry_uri=_uri(kind)), srv
    finally:
        srv.stop()


def _experiment_ids(client):
    return [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]


def _same_value(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_serves_the_same_experiments(view):
    _, ours, theirs, _ = view
    def shape(e):
        return (e.experiment_id, e.name, e.lifecycle_stage, e.artifact_location, e.creation_time, dict(e.tags))
    assert sorted(map(shape, ours.search_experiments(view_type=ViewType.ALL))) == sorted(map(shape, theirs.search_experiments(view_type=ViewType.ALL)))


def test_search_runs_dataframe_matches(view):
    kind, ours, theirs, srv = view
    ids = _experiment_ids(theirs)
    mlflow.set_tracking_uri(srv.url)
    mine = mlflow.search_runs(experiment_ids=ids, run_view_type=ViewType.ALL).sort_values("run_id").reset_index(drop=True)
    mlflow.set_tracking_uri(_uri(kind))
    ref = mlflow.search_runs(experiment_ids=ids, run_view_type=ViewType.ALL).sort_values("run_id").reset_index(drop=True)
    assert sorted(mine.columns) == sorted(ref.columns)
    assert len(mine) == len(ref) and len(ref) >= 5
    for col in ref.columns:
        for a, b in zip(mine[col].tolist(), ref[col].tolist()):
            assert _same_value(a, b) or (a != a and b != b) or str(a) == str(b), (col, a, b)


def test_filtered_and_ordered_search(view):
    _, ours, theirs, _ = view
    ids = _experiment_ids(theirs)
    for flt, order in [
        ("", ["metrics.loss ASC"]),
        ("params.lr = '0.01'", []),
        ("attributes.status = 'FINISHED'", ["attributes.start_time DESC"]),
        ("tags.mlflow.parentRunId != ''", []),
    ]:
        a = [r.info.run_id for r in ours.search_runs(ids, flt, run_view_type=ViewType.ALL, order_by=order)]
        b = [r.info.run_id for r in theirs.search_runs(ids, flt, run_view_type=ViewType.ALL, order_by=order)]
        if order:
            assert a == b, (flt, order)
        else:
            assert sorted(a) == sorted(b), flt


def test_metric_histories_match(view):
    _, ours, theirs, _ = view
    runs = theirs.search_runs(_experiment_ids(theirs), run_view_type=ViewType.ALL)
    checked = 0
    for run in runs:
        for key in run.data.metrics:
            mine = [(m.step, m.timestamp, m.value) for m in ours.get_metric_history(run.info.run_id, key)]
            ref = [(m.step, m.timestamp, m.value) for m in theirs.get_metric_history(run.info.run_id, key)]
            assert sorted(mine, key=repr) == sorted(ref, key=repr) or all(_same_value(x, y) for p, q in zip(sorted(mine, key=repr), sorted(ref, key=repr)) for x, y in zip(p, q))
            checked += len(ref)
    assert checked >= 1000


def test_registry_matches(view):
    kind, ours, theirs, _ = view
    # MLflow's file registry store looks up each version's logged model with a bare MlflowClient(),
    # i.e. through the global tracking URI: point it at the same store (the autouse fixture resets it).
    mlflow.set_tracking_uri(_uri(kind))
    def model(m):
        return (m.name, m.description or "", dict(m.tags), {k: str(v) for k, v in (getattr(m, "aliases", {}) or {}).items()})
    assert sorted(map(model, ours.search_registered_models())) == sorted(map(model, theirs.search_registered_models()))
    def version(v):
        return (v.name, str(v.version), v.current_stage, v.source, v.run_id, dict(v.tags), sorted(getattr(v, "aliases", []) or []))
    assert sorted(map(version, ours.search_model_versions())) == sorted(map(version, theirs.search_model_versions()))
    for m in theirs.search_registered_models():
        for alias, v in (getattr(m, "aliases", {}) or {}).items():
            assert ours.get_model_version_by_alias(m.name, alias).version == str(v)


@pytest.mark.mlflow3("search_traces on experiments and v3 trace info")
def test_traces_match(view):
    _, ours, theirs, _ = view
    ids = _experiment_ids(theirs)
    def shape(t):
        return (t.info.trace_id, t.info.state, t.info.request_time, t.info.execution_duration, len(t.data.spans), sorted(s.name for s in t.data.spans))
    mine = sorted(map(shape, ours.search_traces(ids)))
    ref = sorted(map(shape, theirs.search_traces(ids)))
    assert mine == ref and len(ref) >= 1


def _server_list(srv, run_id, path=None):
    q = f"run_id={run_id}" + (f"&path={urllib.parse.quote(path)}" if path else "")
    with urllib.request.urlopen(f"{srv.url}/api/2.0/mlflow/artifacts/list?{q}") as r:
        return json.load(r).get("files", [])


def _server_tree(srv, run_id, path=None):
    out = []
    for f in _server_list(srv, run_id, path):
        out.append((f["path"], f["is_dir"]))
        if f["is_dir"]:
            out += _server_tree(srv, run_id, f["path"])
    return out




def test_artifacts_listed_and_served_by_the_server(view):
    """The Runlens views read artifacts through the server, which serves them where the store keeps them."""
    _, ours, theirs, srv = view
    run = next(r for r in theirs.search_runs(_experiment_ids(theirs), run_view_type=ViewType.ALL) if theirs.list_artifacts(r.info.run_id))
    ref = sorted(artifact_tree(theirs, run.info.run_id))
    assert sorted(_server_tree(srv, run.info.run_id)) == ref
    for rel, is_dir in ref:
        if is_dir:
            continue
        with urllib.request.urlopen(f"{srv.url}/get-artifact?path={urllib.parse.quote(rel)}&run_uuid={run.info.run_id}") as r:
            served = r.read()
        with open(theirs.download_artifacts(run.info.run_id, rel), "rb") as f:
            assert served == f.read(), rel


def test_writes_are_refused_with_how_to_import(view):
    kind, ours, theirs, srv = view
    before = len(theirs.search_experiments(view_type=ViewType.ALL))
    with pytest.raises(MlflowException) as e:
        ours.create_experiment("not-here")
    # The client derives its status from the error code; on the wire it is 403, which it never retries.
    assert e.value.error_code == "INVALID_STATE"
    assert "read-only" in e.value.message and "runlens import" in e.value.message
    req = urllib.request.Request(f"{srv.url}/api/2.0/mlflow/experiments/create", data=b'{"name": "x"}', headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(req)
    assert http.value.code == 403
    assert json.load(http.value)["error_code"] == "INVALID_STATE"
    run = theirs.search_runs(_experiment_ids(theirs), run_view_type=ViewType.ALL)[0]
    with pytest.raises(MlflowException):
        ours.log_metric(run.info.run_id, "x", 1.0)
    with pytest.raises(MlflowException):
        ours.set_tag(run.info.run_id, "x", "y")
    assert len(theirs.search_experiments(view_type=ViewType.ALL)) == before


def test_follows_changes_mlflow_makes(tmp_path):
    """MLflow keeps writing the database: the view shows the new run without a restart."""
    src = _store_path("db")
    db = tmp_path / "mlflow.db"
    shutil.copy(src, db)
    srv = RunlensServer(db, [])
    srv.log = tmp_path / "server.log"
    srv.start()
    try:
        theirs = MlflowClient(tracking_uri=f"sqlite:///{db}")
        exp = theirs.create_experiment("added-while-served")
        run = theirs.create_run(exp)
        theirs.log_metric(run.info.run_id, "late", 3.0, step=7)
        ours = MlflowClient(tracking_uri=srv.url)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                got = ours.get_run(run.info.run_id)
                if got.data.metrics.get("late") == 3.0:
                    break
            except MlflowException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"the new run never appeared: {srv.log.read_text()[-2000:]}")
        assert ours.get_experiment(exp).name == "added-while-served"
        assert [m.step for m in ours.get_metric_history(run.info.run_id, "late")] == [7]
    finally:
        srv.stop()


def test_answers_as_mlflow_server_does_over_the_same_file(tmp_path):
    """The real `mlflow server` (newest release) on a copy of the same mlflow.db, side by side."""
    from reference_server import ReferenceServer

    if mlflow.__version__ != _newest_version():
        pytest.skip("the newest mlflow server opens only a database at its own alembic revision")
    shutil.copy(_store_path("db"), tmp_path / "mlflow.db")
    ref = ReferenceServer(tmp_path)
    srv = RunlensServer(tmp_path / "mlflow.db", [])
    srv.log = tmp_path / "server.log"
    srv.start()
    try:
        ours, theirs = MlflowClient(tracking_uri=srv.url), MlflowClient(tracking_uri=ref.url)
        ids = [e.experiment_id for e in theirs.search_experiments(view_type=ViewType.ALL)]
        assert sorted(ids) == sorted(e.experiment_id for e in ours.search_experiments(view_type=ViewType.ALL))
        frames = []
        for url in (srv.url, ref.url):
            mlflow.set_tracking_uri(url)
            frames.append(mlflow.search_runs(experiment_ids=ids, run_view_type=ViewType.ALL).sort_values("run_id").reset_index(drop=True))
        mine, refs = frames
        assert sorted(mine.columns) == sorted(refs.columns)
        for col in refs.columns:
            for a, b in zip(mine[col].tolist(), refs[col].tolist()):
                assert _same_value(a, b) or (a != a and b != b) or str(a) == str(b), (col, a, b)
        for run in theirs.search_runs(ids, run_view_type=ViewType.ALL):
            for key in run.data.metrics:
                a = sorted((m.step, m.timestamp, repr(m.value)) for m in ours.get_metric_history(run.info.run_id, key))
                b = sorted((m.step, m.timestamp, repr(m.value)) for m in theirs.get_metric_history(run.info.run_id, key))
                assert a == b, key
        def version(v):
            return (v.name, str(v.version), v.current_stage, v.source, v.run_id, dict(v.tags), sorted(v.aliases or []))
        assert sorted(map(version, ours.search_model_versions())) == sorted(map(version, theirs.search_model_versions()))
        if MLFLOW_MAJOR >= 3:
            def trace(t):
                return (t.info.trace_id, t.info.state, t.info.request_time, len(t.data.spans))
            mlflow.set_tracking_uri(srv.url)
            a = sorted(map(trace, ours.search_traces(ids)))
            mlflow.set_tracking_uri(ref.url)
            b = sorted(map(trace, theirs.search_traces(ids)))
            assert a == b and len(b) >= 1
    finally:
        srv.stop()
        ref.stop()


def _newest_version():
    from pathlib import Path
    import re as _re
    site = next((Path(__file__).resolve().parents[2] / ".venv" / "latest" / "lib").glob("python*/site-packages"))
    dist = next(site.glob("mlflow-*.dist-info"))
    return _re.match(r"mlflow-([^-]+)\.dist-info", dist.name).group(1)
