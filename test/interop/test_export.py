"""`runlens export`: a store logged by the real client, written as an mlflow.db, served by the real
`mlflow server` (the newest release), must answer the client as the Runlens server over the same
store does. The logging client is the venv's; the reference server is always .venv/latest."""
import inspect
import json
import math
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import CLI, MLFLOW_MAJOR, ROOT, RunlensServer
from reference_server import ReferenceServer

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402

NEWEST_PYTHON = ROOT / ".venv" / "latest" / "bin" / "python"
mlflow3_only = pytest.mark.mlflow3("logged models and v3 traces with assessments need the mlflow 3 client")


def _export(root: Path, out: Path, *extra: str):
    return subprocess.run(["node", str(CLI), "export", "--to", f"sqlite:///{out}", "--root", str(root), *extra], capture_output=True, text=True, timeout=300)


def _log_everything(mlflow, tmp: Path):
    """What the suite compares: returns ids for the checks."""
    client = mlflow.MlflowClient()
    ids = {}
    kept = client.create_experiment("export-kept", tags={"team": "vision", "note": "kept"})
    gone = client.create_experiment("export-gone", tags={"team": "nlp"})
    ids["experiments"] = [kept, gone]
    mlflow.set_experiment(experiment_id=kept)
    src = tmp / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "notes.txt").write_text("hello export\n")
    (src / "nested" / "a.json").write_text(json.dumps({"a": 1}))
    (src / "nested" / "deeper" / "b.bin").write_bytes(bytes(range(256)) * 10)
    X = pd.DataFrame({"x1": np.linspace(0, 1, 40), "x2": np.linspace(1, 0, 40) ** 2})
    y = (X["x1"] > 0.5).astype(int)
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_params({"lr": "0.01", "layers": "3"})
        mlflow.set_tags({"stage": "dev", "owner": "me"})
        for step in range(1000):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("odd", float("nan"), step=0)
        mlflow.log_metric("odd", 2.5, step=1)
        mlflow.log_metric("weird", float("nan"))
        mlflow.log_input(mlflow.data.from_pandas(X, name="train-set", source="file:///data/train.csv"), context="training")
        mlflow.log_artifact(str(src / "notes.txt"))
        mlflow.log_artifacts(str(src / "nested"), artifact_path="dir")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("acc", 0.9)
            mlflow.log_param("fold", "1")
        model_kwargs = {"name": "clf"} if MLFLOW_MAJOR >= 3 else {"artifact_path": "clf"}
        infos = [
            mlflow.sklearn.log_model(LogisticRegression(C=c).fit(X, y), registered_model_name="export-model", pip_requirements=["scikit-learn"], **model_kwargs)
            for c in (1.0, 0.5)
        ]
        if MLFLOW_MAJOR >= 3:
            mlflow.log_metric("model_score", 0.75, model_id=infos[0].model_id)
    ids["runs"] = [parent.info.run_id, child.info.run_id]
    ids["models"] = [getattr(i, "model_id", None) for i in infos]
    client.set_registered_model_tag("export-model", "domain", "tabular")
    client.set_model_version_tag("export-model", "1", "validated", "yes")
    client.set_registered_model_alias("export-model", "champion", "2")
    client.update_registered_model("export-model", description="two versions")
    with mlflow.start_run(run_name="in-gone", experiment_id=gone) as in_gone:
        mlflow.log_metric("m", 1.0)
    ids["runs"].append(in_gone.info.run_id)
    client.delete_experiment(gone)

    if MLFLOW_MAJOR >= 3:
        @mlflow.trace(span_type="TOOL")
        def lookup(q):
            return {"hits": [q, q.upper()]}

        @mlflow.trace(name="agent", span_type="AGENT")
        def agent(q):
            return {"answer": lookup(q)["hits"][0] + " ✓"}

        agent("paris")
        agent("rome")
        if hasattr(mlflow, "flush_trace_async_logging"):
            mlflow.flush_trace_async_logging()
        trace_ids = [t.info.trace_id for t in _search_traces(mlflow, kept)]
        from mlflow.entities import AssessmentSource

        mlflow.log_feedback(trace_id=trace_ids[0], name="helpful", value=True, rationale="on point", source=AssessmentSource(source_type="HUMAN", source_id="reviewer"))
        mlflow.log_feedback(trace_id=trace_ids[0], name="score", value=0.8, source=AssessmentSource(source_type="LLM_JUDGE", source_id="judge"))
        ids["traces"] = trace_ids
    return ids


def _search_traces(mlflow, exp_id):
    kwargs = {"return_type": "list"} if "return_type" in inspect.signature(mlflow.search_traces).parameters else {}
    if "locations" in inspect.signature(mlflow.search_traces).parameters:
        return mlflow.search_traces(locations=[exp_id], **kwargs)
    return mlflow.search_traces(experiment_ids=[exp_id], **kwargs)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Logs into a fresh Runlens store, exports it, and serves both: yields the two URLs and paths."""
    import mlflow

    tmp = tmp_path_factory.mktemp("export")
    root = tmp / "store"
    runlens = RunlensServer(root).start()
    previous = mlflow.get_tracking_uri()
    patch = pytest.MonkeyPatch()
    try:
        # The trace exporter reads the environment, not only set_tracking_uri.
        patch.setenv("MLFLOW_TRACKING_URI", runlens.url)
        mlflow.set_tracking_uri(runlens.url)
        ids = _log_everything(mlflow, tmp)
        out = tmp / "out" / "mlflow.db"
        art = tmp / "out" / "mlartifacts"
        # A server owns the store: export refuses, says why and what to do, and writes nothing.
        refused = _export(root, out, "--artifacts", str(art))
        assert refused.returncode != 0 and "in use by process" in refused.stderr and "Stop" in refused.stderr, refused
        assert not out.exists()
        runlens.stop()
        done = _export(root, out, "--artifacts", str(art))
        assert done.returncode == 0, done.stderr
        again = _export(root, out)
        assert again.returncode != 0 and "--force" in again.stderr
        runlens = RunlensServer(root).start()
        ref_dir = tmp / "ref"
        ref_dir.mkdir()
        (ref_dir / "mlflow.db").symlink_to(out)
        reference = ReferenceServer(ref_dir, artifacts_destination=art)
        try:
            yield {"runlens": runlens.url, "reference": reference.url, "ids": ids, "db": out, "art": art, "summary": done.stdout, "tmp": tmp}
        finally:
            reference.stop()
    finally:
        patch.undo()
        mlflow.set_tracking_uri(previous)
        runlens.stop()


@pytest.fixture()
def both(exported, monkeypatch):
    """A function running `fn(mlflow, client)` against each server, returning (runlens, reference)."""
    import mlflow

    def run(fn):
        from mlflow.tracking._tracking_service import utils as tracking_utils

        out = []
        for url in (exported["runlens"], exported["reference"]):
            # The 2.x client caches each run's artifact repository process-wide, bound to the
            # server it first talked to: here the same run ids live on two servers.
            getattr(tracking_utils, "_artifact_repos_cache", {}).clear()
            monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
            mlflow.set_tracking_uri(url)
            out.append(fn(mlflow, mlflow.MlflowClient()))
        return tuple(out)

    return run


def test_summary_counts_what_was_logged(exported):
    line = exported["summary"].strip().splitlines()[-1]
    # Default + the two created; runs parent, child and the deleted experiment's one.
    assert line.startswith("exported 3 experiments, 3 runs, ")
    points = int(line.split(" runs, ")[1].split(" metric points")[0])
    assert points == 1000 + 2 + 1 + 1 + 1 + (1 if MLFLOW_MAJOR >= 3 else 0)
    assert f", {len(exported['ids'].get('traces', []))} traces" in line


def test_experiments_match(both):
    def fetch(mlflow, client):
        from mlflow.entities import ViewType

        return sorted((e.experiment_id, e.name, e.lifecycle_stage, e.creation_time, e.last_update_time, sorted(e.tags.items())) for e in client.search_experiments(view_type=ViewType.ALL))

    ours, theirs = both(fetch)
    assert ours == theirs
    assert any(e[2] == "deleted" for e in theirs)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["artifact_uri"]).sort_values("run_id").reset_index(drop=True).reindex(sorted(df.columns.drop("artifact_uri")), axis=1)


def test_search_runs_dataframes_match(both, exported):
    def fetch(mlflow, client):
        from mlflow.entities import ViewType

        return _normalise(mlflow.search_runs(experiment_ids=exported["ids"]["experiments"], run_view_type=ViewType.ALL))

    ours, theirs = both(fetch)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    assert len(theirs) == 3 and math.isnan(theirs.loc[theirs["tags.mlflow.runName"] == "parent", "metrics.weird"].iloc[0])


def test_metric_histories_match(both, exported):
    parent = exported["ids"]["runs"][0]

    def fetch(mlflow, client):
        return {k: sorted((m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value) for m in client.get_metric_history(parent, k)) for k in ("loss", "odd", "weird")}

    ours, theirs = both(fetch)
    assert ours == theirs
    assert len(theirs["loss"]) == 1000 and theirs["odd"][0][2] == "nan"


def _tree(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.append((f.path, f.is_dir, f.file_size))
        if f.is_dir:
            out.extend(_tree(client, run_id, f.path))
    return out


def test_artifacts_list_and_download(both, exported, tmp_path):
    parent = exported["ids"]["runs"][0]

    def fetch(mlflow, client):
        dest = tmp_path / mlflow.get_tracking_uri().rsplit(":", 1)[1]
        dest.mkdir()
        local = Path(client.download_artifacts(parent, "dir", str(dest)))
        files = {str(p.relative_to(local)): p.read_bytes() for p in local.rglob("*") if p.is_file()}
        return _tree(client, parent), files

    ours, theirs = both(fetch)
    assert ours == theirs
    assert ("dir/deeper/b.bin", False, 2560) in theirs[0] and len(theirs[1]) == 2
    # The files really are in the export's folder, in mlflow server's layout.
    exp_id = exported["ids"]["experiments"][0]
    assert (exported["art"] / exp_id / parent / "artifacts" / "notes.txt").read_text() == "hello export\n"


def test_reference_ui_route_serves_artifacts(exported):
    """mlflow server's own /get-artifact route (what its UI downloads through) reads the copies."""
    parent = exported["ids"]["runs"][0]
    with urllib.request.urlopen(f"{exported['reference']}/get-artifact?path=notes.txt&run_uuid={parent}", timeout=30) as r:
        assert r.read() == b"hello export\n"


def test_registry_matches(both):
    def fetch(mlflow, client):
        models = [(m.name, m.description, sorted(m.tags.items()), sorted(m.aliases.items())) for m in client.search_registered_models()]
        # Aliases through get_model_version: mlflow server's search_model_versions leaves them out.
        versions = sorted((v.name, v.version, v.current_stage, v.run_id, sorted(v.tags.items()), v.description, v.status, sorted(client.get_model_version(v.name, v.version).aliases))
                          for v in client.search_model_versions("name = 'export-model'"))
        alias = client.get_model_version_by_alias("export-model", "champion").version
        return models, versions, alias

    ours, theirs = both(fetch)
    assert ours == theirs
    assert theirs[2] == "2" and len(theirs[1]) == 2


def test_registered_model_loads_from_the_export(both):
    def fetch(mlflow, client):
        X = pd.DataFrame({"x1": [0.1, 0.9], "x2": [0.8, 0.1]})
        return list(mlflow.pyfunc.load_model("models:/export-model@champion").predict(X))

    ours, theirs = both(fetch)
    assert ours == theirs


@mlflow3_only
def test_logged_models_match(both, exported):
    def fetch(mlflow, client):
        models = client.search_logged_models(experiment_ids=[exported["ids"]["experiments"][0]])
        return sorted(
            (m.model_id, m.name, str(m.status), m.source_run_id, m.model_type, sorted(m.params.items()), sorted((k, v) for k, v in m.tags.items() if not k.startswith("mlflow.modelVersions")),
             # NaN points are not exported: MLflow's logged_model_metrics cannot hold NaN (see writeModels.ts).
             sorted((x.key, x.value, x.step) for x in m.metrics or [] if not math.isnan(x.value)))
            for m in models
        )

    ours, theirs = both(fetch)
    assert ours == theirs
    assert len(theirs) == 2 and any(m[7] for m in theirs)
    model_id = exported["ids"]["models"][0]
    exp_id = exported["ids"]["experiments"][0]
    assert (exported["art"] / exp_id / "models" / model_id / "artifacts" / "MLmodel").exists()


@mlflow3_only
def test_traces_spans_and_assessments_match(both, exported):
    exp_id = exported["ids"]["experiments"][0]
    dropped = {"mlflow.artifactLocation"}

    def fetch(mlflow, client):
        out = []
        for t in sorted(_search_traces(mlflow, exp_id), key=lambda t: t.info.trace_id):
            full = client.get_trace(t.info.trace_id)
            spans = sorted((s.span_id, s.parent_id, s.name, s.span_type, s.start_time_ns, s.end_time_ns, s.status.status_code, json.dumps(s.inputs), json.dumps(s.outputs)) for s in full.data.spans)
            assessments = sorted((a.name, json.dumps(a.value), a.rationale, a.source.source_type, a.source.source_id, a.valid) for a in full.info.assessments)
            info = full.info
            out.append((info.trace_id, str(info.state), info.request_time, info.execution_duration, info.request_preview, info.response_preview,
                        sorted((k, v) for k, v in info.tags.items() if k not in dropped), sorted(info.trace_metadata.items()), spans, assessments))
        return out

    ours, theirs = both(fetch)
    assert ours == theirs
    assert len(theirs) == 2 and any(len(t[8]) == 2 for t in theirs) and any(t[9] for t in theirs)


def test_newest_client_reads_the_file_directly(exported):
    """mlflow.search_runs over sqlite:/// with the newest client (no server), artifacts included."""
    script = (
        "import json, sys, mlflow\n"
        "from mlflow.entities import ViewType\n"
        f"mlflow.set_tracking_uri('sqlite:///{exported['db']}')\n"
        f"df = mlflow.search_runs(experiment_ids={exported['ids']['experiments']!r}, run_view_type=ViewType.ALL)\n"
        f"parent = {exported['ids']['runs'][0]!r}\n"
        "c = mlflow.MlflowClient()\n"
        "print(json.dumps({'runs': sorted(df['run_id']), 'loss': len(c.get_metric_history(parent, 'loss')),\n"
        "  'files': sorted(f.path for f in c.list_artifacts(parent)), 'models': [m.name for m in c.search_registered_models()]}))\n"
    )
    done = subprocess.run([str(NEWEST_PYTHON), "-c", script], capture_output=True, text=True, timeout=300, env={"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["runs"] == sorted(exported["ids"]["runs"])
    assert got["loss"] == 1000
    # The 2.x client logs models into the run's artifacts; mlflow 3 into the logged model's own.
    assert got["files"] == (["dir", "notes.txt"] if MLFLOW_MAJOR >= 3 else ["clf", "dir", "notes.txt"])
    assert got["models"] == ["export-model"]


def test_reference_without_artifacts_destination(exported, tmp_path):
    """The URIs are absolute file:// ones, so a server started without --artifacts-destination serves them too."""
    (tmp_path / "mlflow.db").symlink_to(exported["db"])
    reference = ReferenceServer(tmp_path, artifacts_destination=None)
    try:
        parent = exported["ids"]["runs"][0]
        with urllib.request.urlopen(f"{reference.url}/api/2.0/mlflow/artifacts/list?run_id={parent}&path=dir", timeout=30) as r:
            files = sorted(f["path"] for f in json.load(r)["files"])
        assert files == ["dir/a.json", "dir/deeper"]
        with urllib.request.urlopen(f"{reference.url}/get-artifact?path=dir/a.json&run_uuid={parent}", timeout=30) as r:
            assert json.load(r) == {"a": 1}
    finally:
        reference.stop()


def test_exported_schema_is_the_newest_clients(exported, tmp_path):
    """Every table, index and trigger of a database the newest mlflow creates, and its alembic revision."""
    import sqlite3

    script = (
        "import sys\n"
        "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
        "SqlAlchemyStore('sqlite:///' + sys.argv[1], sys.argv[2]).engine.dispose()\n"
    )
    fresh = tmp_path / "fresh.db"
    done = subprocess.run([str(NEWEST_PYTHON), "-c", script, str(fresh), str(tmp_path / "a")], capture_output=True, text=True, timeout=300,
                          env={"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]

    def clauses(sql):
        # SQLAlchemy's constraint order inside a CREATE TABLE varies between runs of the same mlflow.
        return sorted(line.strip().rstrip(",") for line in (sql or "").split("\n"))

    def shape(db):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = sorted((t, n, tbl, clauses(sql)) for t, n, tbl, sql in con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
            return rows, con.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            con.close()

    assert shape(exported["db"]) == shape(fresh)
