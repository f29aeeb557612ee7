"""`runlens import http://…`: a real `mlflow server` (the newest release) filled by the client under
test, imported over REST into a fresh Runlens store, then read back with the same client from both
servers: the Runlens server must answer what the MLflow server answers."""
import math
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI, MLFLOW_MAJOR, RunlensServer
from mlflow.entities import Metric, ViewType
from reference_server import ReferenceServer

NOTHING = "imported 0 experiments, 0 runs, 0 metric points, 0 artifacts, 0 models, 0 traces"


def run_import(url, root, env=None):
    import os

    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["node", str(CLI), "import", url, "--root", str(root)], capture_output=True, text=True, timeout=600, env=e)


def _use(mlflow, url):
    mlflow.set_tracking_uri(url)
    return mlflow.MlflowClient(tracking_uri=url)


def _log_store(mlflow, url, tmp):
    """What the client under test logs into the MLflow server: everything the import must carry."""
    client = _use(mlflow, url)
    ids = {}
    exp = client.create_experiment("rest-src-main", tags={"team": "vision", "note": "kept"})
    gone = client.create_experiment("rest-src-gone", tags={"why": "obsolete"})
    ids["exp"], ids["gone"] = exp, gone
    with mlflow.start_run(experiment_id=exp, run_name="parent") as parent:
        mlflow.log_params({"lr": "0.01", "layers": "4"})
        mlflow.set_tags({"stage": "sweep", "owner": "alice"})
        mlflow.log_metrics({"acc": float("nan")}, step=0)
        client.log_batch(parent.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(1000)])
        mlflow.log_input(mlflow.data.from_numpy(np.arange(12).reshape(4, 3), name="train-arr"), context="training")
        mlflow.log_text("hello", "notes.txt")
        mlflow.log_text("1,2\n3,4\n", "plots/deep/loss.csv")
        p = tmp / "blob.bin"
        p.write_bytes(bytes(range(256)) * 40)
        mlflow.log_artifact(str(p), "bin")
        with mlflow.start_run(experiment_id=exp, run_name="child", nested=True) as child:
            mlflow.log_metric("loss", 0.5, step=3)
        ids["parent"], ids["child"] = parent.info.run_id, child.info.run_id
    with mlflow.start_run(experiment_id=exp, run_name="discarded") as discarded:
        mlflow.log_param("kept", "no")
    client.delete_run(discarded.info.run_id)
    ids["discarded"] = discarded.info.run_id
    with mlflow.start_run(experiment_id=gone, run_name="old") as old:
        mlflow.log_metric("x", 1.0)
    ids["old"] = old.info.run_id
    client.delete_experiment(gone)

    client.create_registered_model("rest-src-clf", tags={"owner": "alice"}, description="best model")
    for _ in range(2):
        client.create_model_version("rest-src-clf", f"runs:/{ids['parent']}/model", run_id=ids["parent"], tags={"k": "v"})
    client.set_registered_model_alias("rest-src-clf", "champion", "2")
    client.set_model_version_tag("rest-src-clf", "1", "validated", "yes")

    if MLFLOW_MAJOR >= 3:
        model = client.create_logged_model(experiment_id=exp, name="rest-src-lm", params={"alpha": "0.5"}, tags={"kind": "demo"})
        d = tmp / "lm"
        (d / "sub").mkdir(parents=True)
        (d / "MLmodel").write_text("flavors: {}\n")
        (d / "sub" / "weights.txt").write_text("0.1 0.2\n")
        client.log_model_artifacts(model.model_id, str(d))
        client.finalize_logged_model(model.model_id, "READY")
        ids["model"] = model.model_id

        mlflow.set_experiment(experiment_id=exp)

        @mlflow.trace(span_type="LLM")
        def generate(q):
            return q.upper()

        @mlflow.trace(name="rag", span_type="CHAIN")
        def rag(q):
            with mlflow.start_span(name="retrieve") as s:
                s.set_inputs({"q": q})
                s.set_outputs({"docs": 2})
            return generate(q)

        rag("hi")
        if hasattr(mlflow, "flush_trace_async_logging"):
            mlflow.flush_trace_async_logging()
        trace_id = mlflow.get_last_active_trace_id()
        from mlflow.entities import AssessmentSource

        mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, source=AssessmentSource(source_type="HUMAN", source_id="bob"), rationale="matches")
        ids["trace"] = trace_id
        # A prompt: MLflow 3's registry search hides it unless asked for by its tag.
        mlflow.genai.register_prompt(name="rest-src-prompt", template="Hello {{name}}", tags={"lang": "en"})
    return ids


@pytest.fixture(scope="module")
def imported():
    import mlflow

    tmp = Path(tempfile.mkdtemp(prefix="runlens-rest-src-"))
    ref = ReferenceServer(tmp)
    srv = None
    try:
        ids = _log_store(mlflow, ref.url, tmp)
        root = tmp / "store"
        first = run_import(ref.url, root)
        assert first.returncode == 0, first.stderr
        second = run_import(ref.url, root)
        srv = RunlensServer(root).start()
        # Runlens's own server speaks the same API: importing from it gives the same store again.
        again = run_import(srv.url, tmp / "store-again")
        yield {"ref": ref.url, "ours": srv.url, "ids": ids, "first": first, "second": second, "again": again, "mlflow": mlflow, "tmp": tmp}
    finally:
        if srv:
            srv.stop()
        ref.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_import_summary_then_a_second_import_adds_nothing(imported):
    line = imported["first"].stdout.splitlines()[0]
    models, artifacts, traces = (3, 5, 1) if MLFLOW_MAJOR >= 3 else (1, 3, 0)
    assert line == f"imported 2 experiments, 4 runs, 1003 metric points, {artifacts} artifacts, {models} models, {traces} traces", imported["first"].stdout
    assert imported["second"].returncode == 0, imported["second"].stderr
    assert imported["second"].stdout.splitlines()[0] == NOTHING


def test_importing_from_a_runlens_server_gives_the_same_store(imported):
    assert imported["again"].returncode == 0, imported["again"].stderr
    assert imported["again"].stdout.splitlines()[0] == imported["first"].stdout.splitlines()[0]


def _runs_frame(mlflow, url, exp_ids):
    _use(mlflow, url)
    df = mlflow.search_runs(experiment_ids=exp_ids, run_view_type=ViewType.ALL)
    return df.sort_values("run_id").reset_index(drop=True)


def test_search_runs_dataframes_match(imported):
    mlflow, ids = imported["mlflow"], imported["ids"]
    exp_ids = [ids["exp"], ids["gone"]]
    ref = _runs_frame(mlflow, imported["ref"], exp_ids)
    ours = _runs_frame(mlflow, imported["ours"], exp_ids)
    assert len(ref) == 4
    assert ours.loc[ours.run_id == imported["ids"]["discarded"], "params.kept"].tolist() == ["no"]
    assert sorted(ref.columns) == sorted(ours.columns)
    for col in ref.columns:
        a, b = ref[col].tolist(), ours[col].tolist()
        assert [_norm(x) for x in a] == [_norm(x) for x in b], col


def _norm(x):
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return str(x)


def test_experiments_tags_and_the_deleted_one(imported):
    mlflow = imported["mlflow"]
    for url in (imported["ref"], imported["ours"]):
        c = _use(mlflow, url)
        main = c.get_experiment_by_name("rest-src-main")
        assert main.tags["team"] == "vision" and main.lifecycle_stage == "active"
        gone = c.get_experiment_by_name("rest-src-gone")
        assert gone.lifecycle_stage == "deleted" and gone.tags["why"] == "obsolete"
    ref, ours = (_use(mlflow, u).get_run(imported["ids"]["child"]) for u in (imported["ref"], imported["ours"]))
    assert ours.data.tags["mlflow.parentRunId"] == ref.data.tags["mlflow.parentRunId"] == imported["ids"]["parent"]
    for url in (imported["ref"], imported["ours"]):
        assert _use(mlflow, url).get_run(imported["ids"]["discarded"]).info.lifecycle_stage == "deleted"


def test_metric_histories_match_including_nan(imported):
    mlflow, run = imported["mlflow"], imported["ids"]["parent"]
    got = {}
    for url in (imported["ref"], imported["ours"]):
        c = _use(mlflow, url)
        got[url] = {k: sorted((m.step, m.timestamp, _norm(m.value)) for m in c.get_metric_history(run, k)) for k in ("loss", "acc")}
    assert len(got[imported["ref"]]["loss"]) == 1000
    assert got[imported["ref"]]["acc"] == [(0, got[imported["ref"]]["acc"][0][1], "nan")]
    assert got[imported["ref"]] == got[imported["ours"]]


def test_dataset_inputs_match(imported):
    mlflow, run = imported["mlflow"], imported["ids"]["parent"]
    ref, ours = ([(d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.schema, sorted((t.key, t.value) for t in d.tags))
                  for d in _use(mlflow, u).get_run(run).inputs.dataset_inputs] for u in (imported["ref"], imported["ours"]))
    assert ref and ref == ours


def _tree(mlflow, url, run, tmp):
    c = _use(mlflow, url)
    out = {}

    def walk(path):
        for f in c.list_artifacts(run, path):
            if f.is_dir:
                walk(f.path)
            else:
                dst = tmp / f"dl-{abs(hash(url))}"
                local = mlflow.artifacts.download_artifacts(run_id=run, artifact_path=f.path, dst_path=str(dst), tracking_uri=url)
                out[f.path] = (f.file_size, Path(local).read_bytes())

    walk(None)
    return out


def test_artifact_lists_and_bytes_match(imported):
    mlflow, run, tmp = imported["mlflow"], imported["ids"]["parent"], imported["tmp"]
    ref = _tree(mlflow, imported["ref"], run, tmp)
    ours = _tree(mlflow, imported["ours"], run, tmp)
    assert sorted(ref) == ["bin/blob.bin", "notes.txt", "plots/deep/loss.csv"]
    assert ref == ours


def test_registry_versions_aliases_and_tags_match(imported):
    mlflow = imported["mlflow"]
    got = []
    for url in (imported["ref"], imported["ours"]):
        c = _use(mlflow, url)
        m = c.get_registered_model("rest-src-clf")
        versions = sorted(c.search_model_versions("name='rest-src-clf'"), key=lambda v: int(v.version))
        got.append((
            m.name, m.description, m.tags, dict(m.aliases) if isinstance(m.aliases, dict) else m.aliases,
            # Aliases per version from get_model_version: MLflow's search_model_versions leaves them out.
            [(v.version, v.run_id, v.source, v.tags, sorted(c.get_model_version(v.name, v.version).aliases), v.creation_timestamp) for v in versions],
            c.get_model_version_by_alias("rest-src-clf", "champion").version,
        ))
    assert got[0][5] == "2" and [v[4] for v in got[0][4]] == [[], ["champion"]] and got[0][3] == {"champion": "2"}
    assert got[0] == got[1]


@pytest.mark.mlflow3("logged models are mlflow 3's")
def test_logged_model_and_its_artifacts_match(imported):
    mlflow, exp, model_id = imported["mlflow"], imported["ids"]["exp"], imported["ids"]["model"]
    got = []
    for url in (imported["ref"], imported["ours"]):
        c = _use(mlflow, url)
        m = c.get_logged_model(model_id)
        files = sorted(f.path for f in c.list_logged_model_artifacts(model_id))
        sub = sorted(f.path for f in c.list_logged_model_artifacts(model_id, "sub"))
        got.append((m.name, m.experiment_id == exp, m.params, m.tags.get("kind"), str(m.status), files, sub))
    assert got[0][5] == ["MLmodel", "sub"] and got[0][6] == ["sub/weights.txt"]
    assert got[0] == got[1]


@pytest.mark.mlflow3("prompts are mlflow 3's")
def test_prompts_come_across(imported):
    mlflow = imported["mlflow"]
    got = []
    for url in (imported["ref"], imported["ours"]):
        _use(mlflow, url)
        p = mlflow.genai.load_prompt("prompts:/rest-src-prompt/1")
        got.append((p.name, p.version, p.template, p.tags.get("lang")))
    assert got[0] == ("rest-src-prompt", 1, "Hello {{name}}", "en") and got[0] == got[1]


@pytest.mark.mlflow3("traces and assessments are logged with mlflow 3's tracing API")
def test_traces_spans_and_assessments_match(imported):
    mlflow, exp, trace_id = imported["mlflow"], imported["ids"]["exp"], imported["ids"]["trace"]
    got = []
    for url in (imported["ref"], imported["ours"]):
        _use(mlflow, url)
        found = mlflow.search_traces(locations=[exp], return_type="list") if MLFLOW_MAJOR >= 3 else []
        assert [t.info.trace_id for t in found] == [trace_id]
        t = mlflow.get_trace(trace_id)
        by_id = {s.span_id: s.name for s in t.data.spans}
        spans = sorted((s.name, by_id.get(s.parent_id), s.inputs and str(s.inputs), s.outputs and str(s.outputs)) for s in t.data.spans)
        fb = [(a.name, a.value, a.source.source_type, a.source.source_id, a.rationale) for a in t.info.assessments]
        got.append((t.info.state, t.info.request_time, t.info.execution_duration, t.info.request_preview, spans, fb))
    assert [s[0] for s in got[0][4]] == ["generate", "rag", "retrieve"]
    assert got[0][5] == [("correct", True, "HUMAN", "bob", "matches")]
    assert got[0] == got[1]


def test_import_into_a_store_a_server_owns_goes_through_that_server(imported):
    root = imported["tmp"] / "owned"
    srv = RunlensServer(root).start()
    try:
        r = run_import(imported["ref"], root)
        assert r.returncode == 0, r.stderr
        assert srv.url in r.stderr and "importing through it" in r.stderr
        assert re.search(r"^imported \d+ experiments, [1-9]\d* runs", r.stdout, re.M), r.stdout
        # The owner serves what it imported, without a restart.
        from mlflow import MlflowClient
        assert MlflowClient(tracking_uri=srv.url).search_experiments()
    finally:
        srv.stop()


def test_unreachable_server_and_a_non_mlflow_answer_are_told_apart(imported):
    r = run_import("http://127.0.0.1:9", imported["tmp"] / "nowhere")
    assert r.returncode == 1 and "Cannot reach the MLflow server at http://127.0.0.1:9" in r.stderr, r.stderr
    r = run_import(f"{imported['ours']}/static-files/nothing", imported["tmp"] / "nowhere")
    assert r.returncode == 1 and "does not look like an MLflow tracking server" in r.stderr, r.stderr
    # Some other web server altogether: Python's file server answers POST with 501 and an HTML page.
    import http.server
    import threading

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        r = run_import(f"http://127.0.0.1:{web.server_address[1]}", imported["tmp"] / "nowhere")
        assert r.returncode == 1 and "does not look like an MLflow tracking server" in r.stderr, r.stderr
    finally:
        web.shutdown()
    assert not (imported["tmp"] / "nowhere").exists()


V2 = Path(__file__).resolve().parents[2] / ".venv" / "v2" / "bin"
V2_LOG = """
import json, sys, mlflow
from mlflow.entities import Metric
mlflow.set_tracking_uri(sys.argv[1])
c = mlflow.MlflowClient()
e = c.create_experiment("v2-src")
with mlflow.start_run(experiment_id=e) as r:
    c.log_batch(r.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(1000)])
    mlflow.log_text("hi", "d/a.txt")
mlflow.set_experiment(experiment_id=e)

@mlflow.trace
def f(x):
    with mlflow.start_span("child"):
        return x

f(1)
print(json.dumps({"run": r.info.run_id}))
"""


@pytest.mark.skipif(not (V2 / "mlflow").exists(), reason="needs .venv/v2")
def test_import_from_an_mlflow_2_server(tmp_path):
    """MLflow 2.x's own server (its file store: the v2 venv's SQLAlchemy is too new for its sqlite store)."""
    import json
    import os
    import signal
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(V2 / "mlflow"), "server", "--backend-store-uri", str(tmp_path / "mlruns"), "--artifacts-destination", str(tmp_path / "art"),
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "wb"), start_new_session=True)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except Exception:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.5)
        logged = subprocess.run([str(V2 / "python"), "-c", V2_LOG, url], capture_output=True, text=True, timeout=300)
        assert logged.returncode == 0, logged.stderr[-2000:]
        run_id = json.loads(logged.stdout.strip().splitlines()[-1])["run"]
        r = run_import(url, tmp_path / "store")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "imported 1 experiments, 1 runs, 1000 metric points, 1 artifacts, 0 models, 1 traces"
        assert "(version 2." in r.stderr
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    srv = RunlensServer(tmp_path / "store").start()
    try:
        import mlflow

        # The global URI too: a 2.x client resolves mlflow-artifacts: against it, not the client's.
        c = _use(mlflow, srv.url)
        exp = c.get_experiment_by_name("v2-src").experiment_id
        assert len(c.get_metric_history(run_id, "loss")) == 1000
        assert [f.path for f in c.list_artifacts(run_id, "d")] == ["d/a.txt"]
        body = json.dumps({"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}]}).encode()
        found = json.loads(urllib.request.urlopen(urllib.request.Request(f"{srv.url}/api/3.0/mlflow/traces/search", data=body, headers={"Content-Type": "application/json"})).read())["traces"]
        assert len(found) == 1
        data = json.loads(urllib.request.urlopen(f"{srv.url}/ajax-api/2.0/mlflow/get-trace-artifact?request_id={found[0]['trace_id']}").read())
        assert sorted(s["name"] for s in data["spans"]) == ["child", "f"]
    finally:
        srv.stop()
