"""`runlens import <mlflow.db | mlruns/>`: an existing MLflow store copied into a Runlens store.

The stores are written by the running venv's client (mlflow_store_fixtures.py). After the import,
the same client reads the Runlens server and the original store directly, and every run, history,
artifact, registered model and trace must read the same. A second import adds nothing, and an
import into a store a server owns goes through that server.
"""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import CLI, MLFLOW_MAJOR, RunlensServer
from mlflow_store_fixtures import artifact_tree, store_path, store_uri

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

KINDS = ["db", "mlruns"]


@pytest.fixture(autouse=True)
def _tracking_uri_restored(monkeypatch):
    """These tests point the client's global tracking URI at stores; leave it (and its env var) as found."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield
    mlflow.set_tracking_uri(None)
SUMMARY = re.compile(r"^imported (\d+) experiments, (\d+) runs, (\d+) metric points, (\d+) artifacts, (\d+) models, (\d+) traces$", re.M)


def _import(source, root):
    out = subprocess.run(["node", str(CLI), "import", str(source), "--root", str(root)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    m = SUMMARY.search(out.stdout)
    assert m, out.stdout
    return tuple(int(x) for x in m.groups()), out.stdout




@pytest.fixture(scope="module", params=KINDS)
def imported(request, tmp_path_factory):
    kind = request.param
    work = tmp_path_factory.mktemp(f"import-{kind}")
    root = work / "store"
    counts, _ = _import(store_path(kind), root)
    srv = RunlensServer(root)
    srv.start()
    try:
        yield kind, counts, root, MlflowClient(tracking_uri=srv.url, registry_uri=srv.url), MlflowClient(tracking_uri=store_uri(kind), registry_uri=store_uri(kind))
    finally:
        srv.stop()


def test_counts_what_the_store_holds(imported):
    kind, (experiments, runs, points, artifacts, models, traces), _, _, theirs = imported
    their_exps = theirs.search_experiments(view_type=ViewType.ALL)
    assert experiments == len([e for e in their_exps if e.name != "Default"])
    their_runs = theirs.search_runs([e.experiment_id for e in their_exps], run_view_type=ViewType.ALL)
    assert runs == len(their_runs)
    assert points >= 1000
    assert artifacts >= 2
    assert models >= 1
    if MLFLOW_MAJOR >= 3:
        assert traces >= 1


def test_runs_keep_ids_names_times_params_tags_metrics(imported):
    _, _, _, ours, theirs = imported
    by_name = {e.name: e for e in ours.search_experiments(view_type=ViewType.ALL)}
    for exp in theirs.search_experiments(view_type=ViewType.ALL):
        mine = by_name[exp.name]
        assert mine.lifecycle_stage == exp.lifecycle_stage
        assert {k: v for k, v in mine.tags.items()} == dict(exp.tags)
        ref = {r.info.run_id: r for r in theirs.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)}
        got = {r.info.run_id: r for r in ours.search_runs([mine.experiment_id], run_view_type=ViewType.ALL)}
        assert sorted(got) == sorted(ref), exp.name
        for run_id, r in ref.items():
            g = got[run_id]
            assert (g.info.run_name, g.info.status, g.info.start_time, g.info.end_time, g.info.lifecycle_stage, g.info.user_id) == (
                r.info.run_name, r.info.status, r.info.start_time, r.info.end_time, r.info.lifecycle_stage, r.info.user_id)
            assert g.data.params == r.data.params
            assert g.data.tags == r.data.tags
            assert set(g.data.metrics) == set(r.data.metrics)
            for key in r.data.metrics:
                a = sorted((m.step, m.timestamp, repr(m.value)) for m in ours.get_metric_history(run_id, key))
                b = sorted((m.step, m.timestamp, repr(m.value)) for m in theirs.get_metric_history(run_id, key))
                assert a == b, (run_id, key)


def test_artifacts_copied_into_the_store(imported):
    _, _, root, ours, theirs = imported
    exps = [e.experiment_id for e in theirs.search_experiments(view_type=ViewType.ALL)]
    checked = 0
    for run in theirs.search_runs(exps, run_view_type=ViewType.ALL):
        ref = sorted(artifact_tree(theirs, run.info.run_id))
        if not ref:
            continue
        assert sorted(artifact_tree(ours, run.info.run_id)) == ref
        mine = ours.get_run(run.info.run_id).info.artifact_uri
        assert mine.startswith("mlflow-artifacts:"), mine  # copied, not pointing at the old store
        for rel, is_dir in ref:
            if not is_dir:
                a = Path(ours.download_artifacts(run.info.run_id, rel)).read_bytes()
                b = Path(theirs.download_artifacts(run.info.run_id, rel)).read_bytes()
                assert a == b, rel
                checked += 1
    assert checked >= 2


def test_registry_copied(imported):
    kind, _, _, ours, theirs = imported
    # MLflow's file registry store looks up each version's logged model with a bare MlflowClient(),
    # i.e. through the global tracking URI: point it at the same store (the autouse fixture resets it).
    mlflow.set_tracking_uri(store_uri(kind))
    for m in theirs.search_registered_models():
        mine = ours.get_registered_model(m.name)
        assert (mine.description or "") == (m.description or "")
        assert dict(mine.tags) == dict(m.tags)
        assert {k: str(v) for k, v in mine.aliases.items()} == {k: str(v) for k, v in m.aliases.items()}
        for v in theirs.search_model_versions(f"name='{m.name}'"):
            g = ours.get_model_version(m.name, v.version)
            assert (g.current_stage, g.source, g.run_id, dict(g.tags)) == (v.current_stage, v.source, v.run_id, dict(v.tags))


@pytest.mark.mlflow3("search_traces with spans")
def test_traces_copied(imported):
    kind, _, _, ours, theirs = imported
    by_name = {e.name: e.experiment_id for e in ours.search_experiments(view_type=ViewType.ALL)}
    for exp in theirs.search_experiments(view_type=ViewType.ALL):
        # The client fetches span data with the global tracking URI (mlflow-artifacts: needs the server).
        mlflow.set_tracking_uri(store_uri(kind))
        ref = theirs.search_traces([exp.experiment_id])
        if not ref:
            continue
        mlflow.set_tracking_uri(ours.tracking_uri)
        got = {t.info.trace_id: t for t in ours.search_traces([by_name[exp.name]])}
        for t in ref:
            g = got[t.info.trace_id]
            assert g.info.state == t.info.state
            assert g.info.request_time == t.info.request_time
            assert sorted(s.name for s in g.data.spans) == sorted(s.name for s in t.data.spans)
            assert sorted(a.name for a in g.info.assessments) == sorted(a.name for a in t.info.assessments)


def test_second_import_adds_nothing(imported):
    kind, _, root, ours, _ = imported
    # The store is served (locked): the import goes through the server that owns it.
    counts, out = _import(store_path(kind), root)
    assert counts == (0, 0, 0, 0, 0, 0), out
    assert "skipped" in out and "already in the store" in out
