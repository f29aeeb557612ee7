"""`runlens publish` to the pinned `mlflow server` on PostgreSQL (artifacts through its proxy), checked
with the real client against that server: everything arrives once, a second publish adds nothing,
a publish killed half-way resumes, and a basic-auth server takes credentials (and says so without).

Runs on the pinned client only (the server is the pinned release; one run of these is enough).
"""
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from mlflow.entities import Metric

import pg_server
from conftest import CLI, RunlensServer

PINNED = __import__("mlflow").__version__ == "3.6.0"
pytestmark = pytest.mark.skipif(not PINNED or pg_server.available() is not None, reason=pg_server.available() or "runs on the pinned client only")

SUMMARY = re.compile(r"^published (\d+) runs \((\d+) new, (\d+) updated\), (\d+) metric points, (\d+) artifacts$", re.M)


def publish(root, url, *extra, env=None, timeout=900):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    e.update(env or {})
    return subprocess.run(["node", str(CLI), "publish", "--root", str(root), "--to", url, *extra], capture_output=True, text=True, timeout=timeout, env=e)


def summary_of(res):
    assert res.returncode == 0, res.stderr
    m = SUMMARY.search(res.stdout)
    assert m, res.stdout
    return tuple(int(x) for x in m.groups())


def _seed(mlflow, url, tmp):
    """A local experiment as a user logs it: nested runs, 1,000-step metrics, artifacts, a logged model, traces."""
    mlflow.set_tracking_uri(url)
    client = mlflow.MlflowClient(tracking_uri=url)
    exp = client.create_experiment("team-sweep", tags={"team": "vision"})
    ids = {}
    with mlflow.start_run(experiment_id=exp, run_name="sweep") as parent:
        mlflow.log_params({"lr": "0.01", "layers": "4"})
        mlflow.set_tags({"stage": "sweep"})
        client.log_batch(parent.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(1000)])
        mlflow.log_text("hello", "notes.txt")
        mlflow.log_text("1,2\n3,4\n", "plots/deep/loss.csv")
        for i in range(2):
            with mlflow.start_run(experiment_id=exp, run_name=f"trial-{i}", nested=True) as child:
                mlflow.log_param("seed", str(i))
                client.log_batch(child.info.run_id, metrics=[Metric(k, s * (i + 1) * 0.5, 1_700_000_000_000 + s, s) for k in ("acc", "loss") for s in range(1000)])
                mlflow.log_text(f"trial {i}", "out/result.txt")
                ids[f"child{i}"] = child.info.run_id
                if i == 0:
                    with mlflow.start_run(experiment_id=exp, run_name="grandchild", nested=True) as gc:
                        mlflow.log_metric("x", 1.0, step=0)
                        ids["grandchild"] = gc.info.run_id
        ids["parent"] = parent.info.run_id
    model = client.create_logged_model(experiment_id=exp, name="clf", source_run_id=ids["parent"], params={"alpha": "0.5"}, tags={"kind": "demo"})
    d = tmp / "lm"
    (d / "sub").mkdir(parents=True)
    (d / "MLmodel").write_text("flavors: {}\n")
    (d / "sub" / "weights.txt").write_text("0.1 0.2\n")
    client.log_model_artifacts(model.model_id, str(d))
    client.finalize_logged_model(model.model_id, "READY")
    ids["model"] = model.model_id
    mlflow.set_experiment(experiment_id=exp)

    @mlflow.trace(name="rag", span_type="CHAIN")
    def rag(q):
        with mlflow.start_span(name="retrieve") as s:
            s.set_inputs({"q": q})
            s.set_outputs({"docs": 2})
        return q.upper()

    with mlflow.start_run(run_id=ids["child1"]):
        rag("hi")
    rag("standalone")
    ids["traces"] = [t.info.trace_id for t in client.search_traces(experiment_ids=[exp])]
    ids["exp"] = exp
    return ids


@pytest.fixture(scope="module")
def env():
    import mlflow

    tmp = Path(tempfile.mkdtemp(prefix="runlens-publish-pg-"))
    cluster = pg_server.PostgresCluster()
    servers = []
    try:
        # Both servers start (slowly: migrations on PostgreSQL) while the local store is seeded.
        remote = pg_server.PgMlflowServer(cluster, tmp / "remote")
        servers.append(remote)
        auth = pg_server.PgMlflowServer(cluster, tmp / "auth", db_name="mlflow_auth_srv", basic_auth=True)
        servers.append(auth)
        local = RunlensServer(tmp / "store").start()
        try:
            ids = _seed(mlflow, local.url, tmp)
        finally:
            local.stop()
        remote.wait_ready()
        auth.wait_ready()
        first = publish(tmp / "store", remote.url)
        yield {"tmp": tmp, "root": tmp / "store", "remote": remote, "auth": auth, "ids": ids, "first": first, "mlflow": mlflow}
    finally:
        for s in servers:
            s.stop()
        cluster.stop()


def remote_client(env):
    import mlflow

    mlflow.set_tracking_uri(env["remote"].url)
    return mlflow.MlflowClient(tracking_uri=env["remote"].url)


def remote_runs(client, exp_name):
    exp = client.get_experiment_by_name(exp_name)
    assert exp is not None
    return exp, client.search_runs([exp.experiment_id], max_results=1000)


def test_first_publish_summary(env):
    runs, new, updated, points, artifacts = summary_of(env["first"])
    assert (runs, new, updated) == (4, 4, 0)
    assert points == 1000 + 2 * 2000 + 1
    # notes.txt, loss.csv, 2 × result.txt, the model's 2 files
    assert artifacts == 6


def test_runs_params_tags_histories_and_hierarchy_arrived_once(env):
    client = remote_client(env)
    exp, runs = remote_runs(client, "team-sweep")
    assert exp.tags["team"] == "vision"
    by_origin = {}
    for r in runs:
        by_origin.setdefault(r.data.tags["runlens.origin.runId"], []).append(r)
    assert sorted(by_origin) == sorted([env["ids"][k] for k in ("parent", "child0", "child1", "grandchild")])
    assert all(len(v) == 1 for v in by_origin.values())
    remote = {k: by_origin[env["ids"][k]][0] for k in ("parent", "child0", "child1", "grandchild")}
    assert remote["parent"].data.params == {"lr": "0.01", "layers": "4"}
    assert remote["parent"].data.tags["stage"] == "sweep"
    assert remote["parent"].info.run_name == "sweep"
    assert remote["parent"].info.status == "FINISHED"
    assert "mlflow.parentRunId" not in remote["parent"].data.tags
    assert remote["child0"].data.tags["mlflow.parentRunId"] == remote["parent"].info.run_id
    assert remote["child1"].data.tags["mlflow.parentRunId"] == remote["parent"].info.run_id
    assert remote["grandchild"].data.tags["mlflow.parentRunId"] == remote["child0"].info.run_id
    hist = client.get_metric_history(remote["parent"].info.run_id, "loss")
    assert [(m.step, m.value, m.timestamp) for m in hist] == [(s, 1.0 / (s + 1), 1_700_000_000_000 + s) for s in range(1000)]
    assert len(client.get_metric_history(remote["child1"].info.run_id, "acc")) == 1000
    assert client.get_run(remote["child1"].info.run_id).data.metrics["acc"] == 999 * 2 * 0.5


def test_artifacts_arrived_through_the_proxy(env):
    client = remote_client(env)
    _, runs = remote_runs(client, "team-sweep")
    parent = next(r for r in runs if r.data.tags["runlens.origin.runId"] == env["ids"]["parent"])
    assert parent.info.artifact_uri.startswith("mlflow-artifacts:")
    out = env["tmp"] / "dl"
    p = client.download_artifacts(parent.info.run_id, "", str(out))
    assert (Path(p) / "notes.txt").read_text() == "hello"
    assert (Path(p) / "plots" / "deep" / "loss.csv").read_text() == "1,2\n3,4\n"


def test_logged_model_and_traces_arrived(env):
    client = remote_client(env)
    exp, runs = remote_runs(client, "team-sweep")
    parent = next(r for r in runs if r.data.tags["runlens.origin.runId"] == env["ids"]["parent"])
    models = client.search_logged_models(experiment_ids=[exp.experiment_id])
    assert len(models) == 1
    m = models[0]
    assert m.name == "clf" and m.params == {"alpha": "0.5"} and m.tags["kind"] == "demo"
    assert m.source_run_id == parent.info.run_id
    assert str(m.status) in ("READY", "LoggedModelStatus.READY")
    d = env["tmp"] / "lm-dl"
    got = Path(env["mlflow"].artifacts.download_artifacts(artifact_uri=m.artifact_location, dst_path=str(d)))
    assert (got / "sub" / "weights.txt").read_text() == "0.1 0.2\n"
    traces = client.search_traces(experiment_ids=[exp.experiment_id])
    assert sorted(t.info.trace_id for t in traces) == sorted(env["ids"]["traces"])
    for t in traces:
        assert sorted(s.name for s in t.data.spans) == ["rag", "retrieve"]
    child1 = next(r for r in runs if r.data.tags["runlens.origin.runId"] == env["ids"]["child1"])
    linked = [t for t in traces if t.info.trace_metadata.get("mlflow.sourceRun") == child1.info.run_id]
    assert len(linked) == 1


def test_second_publish_adds_nothing(env):
    res = publish(env["root"], env["remote"].url)
    runs, new, updated, points, artifacts = summary_of(res)
    assert (runs, new, updated, points, artifacts) == (0, 0, 0, 0, 0), res.stdout
    assert "unchanged 4 runs" in res.stdout
    client = remote_client(env)
    exp, remote = remote_runs(client, "team-sweep")
    assert len(remote) == 4
    assert len(client.search_logged_models(experiment_ids=[exp.experiment_id])) == 1
    assert len(client.search_traces(experiment_ids=[exp.experiment_id])) == len(env["ids"]["traces"])
    parent = next(r for r in remote if r.data.tags["runlens.origin.runId"] == env["ids"]["parent"])
    assert len(client.get_metric_history(parent.info.run_id, "loss")) == 1000


def test_a_changed_run_is_updated_not_duplicated(env, tmp_path):
    import mlflow

    local = RunlensServer(env["root"]).start()
    try:
        mlflow.set_tracking_uri(local.url)
        c = mlflow.MlflowClient(tracking_uri=local.url)
        c.log_batch(env["ids"]["child0"], metrics=[Metric("acc", 42.0, 1_800_000_000_000, 1000)])
        c.set_tag(env["ids"]["child0"], "reviewed", "yes")
        # Published while the store is served: read through that server.
        res = publish(env["root"], env["remote"].url, "--run", env["ids"]["child0"])
    finally:
        local.stop()
    runs, new, updated, points, _ = summary_of(res)
    assert (runs, new, updated) == (1, 0, 1), res.stdout
    client = remote_client(env)
    _, remote = remote_runs(client, "team-sweep")
    assert len(remote) == 4
    child0 = next(r for r in remote if r.data.tags["runlens.origin.runId"] == env["ids"]["child0"])
    assert child0.data.tags["reviewed"] == "yes"
    assert len(client.get_metric_history(child0.info.run_id, "acc")) == 1001


def test_killed_half_way_then_resumed(env):
    import mlflow

    local = RunlensServer(env["root"]).start()
    try:
        mlflow.set_tracking_uri(local.url)
        c = mlflow.MlflowClient(tracking_uri=local.url)
        exp = c.create_experiment("team-big")
        ids = []
        for i in range(24):
            r = c.create_run(exp, run_name=f"r{i}")
            c.log_batch(r.info.run_id, metrics=[Metric(f"m{k}", float(s), 1_700_000_000_000 + s, s) for k in range(3) for s in range(1000)], params=[mlflow.entities.Param("i", str(i))])
            c.set_terminated(r.info.run_id)
            ids.append(r.info.run_id)
    finally:
        local.stop()
    e = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    proc = subprocess.Popen(["node", str(CLI), "publish", "--root", str(env["root"]), "--to", env["remote"].url, "--experiment", "team-big"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    client = remote_client(env)
    deadline = time.time() + 300
    killed_at = None
    while time.time() < deadline and proc.poll() is None:
        got = client.get_experiment_by_name("team-big")
        if got is not None and len(client.search_runs([got.experiment_id], max_results=100)) >= 6:
            proc.send_signal(signal.SIGKILL)
            # A request already sent when the kill lands can still create a run on the server:
            # count what the killed publish left only once it is gone and the server has settled.
            proc.wait(timeout=30)
            time.sleep(1.0)
            killed_at = len(client.search_runs([got.experiment_id], max_results=100))
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_at is not None and killed_at < 24, f"the publish finished before it could be killed: {proc.stdout.read()}"
    res = publish(env["root"], env["remote"].url, "--experiment", "team-big")
    runs, new, updated, points, _ = summary_of(res)
    assert new + updated == runs and new >= 24 - killed_at and runs <= 24
    exp = client.get_experiment_by_name("team-big")
    remote = client.search_runs([exp.experiment_id], max_results=100)
    assert sorted(r.data.tags["runlens.origin.runId"] for r in remote) == sorted(ids)
    for r in remote:
        assert r.info.status == "FINISHED"
        assert "runlens.publish.digest" in r.data.tags
        for k in range(3):
            assert len(client.get_metric_history(r.info.run_id, f"m{k}")) == 1000
    again = summary_of(publish(env["root"], env["remote"].url, "--experiment", "team-big"))
    assert again[:3] == (0, 0, 0)


def test_basic_auth_server_wants_credentials(env):
    auth = env["auth"]
    res = publish(env["root"], auth.url, "--experiment", "team-sweep")
    assert res.returncode == 1
    assert "requires authentication" in res.stderr and "MLFLOW_TRACKING_USERNAME" in res.stderr, res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    bad = publish(env["root"], auth.url, "--experiment", "team-sweep", env={"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "wrong"})
    assert bad.returncode == 1 and "credentials given were rejected" in bad.stderr, bad.stderr
    user, password = pg_server.PgMlflowServer.ADMIN
    ok = publish(env["root"], auth.url, "--experiment", "team-sweep", env={"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password})
    runs, new, _, _, _ = summary_of(ok)
    assert (runs, new) == (4, 4)
