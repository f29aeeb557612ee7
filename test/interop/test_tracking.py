"""The tracking half of MLflow, driven by the real, unchanged `mlflow` client against `runlens serve`."""
import math
import time

import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException


def test_server_identifies_itself(server):
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/health") as r:
        assert r.status == 200 and r.read() == b"OK"


def test_set_experiment_and_get_by_name(mlflow, client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    assert exp.name == exp_name
    assert exp.lifecycle_stage == "active"
    again = mlflow.set_experiment(exp_name)
    assert again.experiment_id == exp.experiment_id
    assert client.get_experiment_by_name(exp_name).experiment_id == exp.experiment_id
    assert client.get_experiment("0").name == "Default"
    assert client.get_experiment_by_name("no-such-experiment-anywhere") is None


def test_start_run_params_metrics_tags(mlflow, client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run(run_name="train") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"epochs": 3, "optimizer": "adam"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev", "owner": "ana"})
    got = client.get_run(run.info.run_id)
    assert got.info.run_name == "train"
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= got.info.start_time
    assert got.data.params == {"lr": "0.01", "epochs": "3", "optimizer": "adam"}
    assert got.data.metrics == {"loss": pytest.approx(0.2), "acc": 0.9, "f1": 0.8}
    assert got.data.tags["team"] == "vision"
    assert got.data.tags["mlflow.runName"] == "train"
    assert {"stage", "owner"} <= set(got.data.tags)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert [m.value for m in history] == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])


def test_generated_run_name_and_user(mlflow, client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        pass
    got = client.get_run(run.info.run_id)
    assert got.info.run_name and "-" in got.info.run_name
    assert got.data.tags["mlflow.runName"] == got.info.run_name
    assert got.data.tags.get("mlflow.user") == got.info.user_id


def test_nested_runs(mlflow, client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    with mlflow.start_run(run_name="parent") as parent:
        for i in range(3):
            with mlflow.start_run(run_name=f"child-{i}", nested=True) as child:
                mlflow.log_metric("score", i)
                assert child.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    children = mlflow.search_runs(
        [exp.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["metrics.score DESC"],
        output_format="list",
    )
    assert [r.info.run_name for r in children] == ["child-2", "child-1", "child-0"]


def test_metric_special_values_and_defaults(mlflow, client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("nan", float("nan"))
        mlflow.log_metric("inf", float("inf"))
        mlflow.log_metric("ninf", float("-inf"))
        mlflow.log_metric("plain", 3)
    got = client.get_run(run.info.run_id).data.metrics
    assert math.isnan(got["nan"])
    # As MLflow's SQL store: infinities are kept as ±DBL_MAX.
    assert got["inf"] == pytest.approx(1.7976931348623157e308)
    assert got["ninf"] == pytest.approx(-1.7976931348623157e308)
    plain = client.get_metric_history(run.info.run_id, "plain")[0]
    assert plain.step == 0 and plain.timestamp > 0
    assert math.isnan(client.get_metric_history(run.info.run_id, "nan")[0].value)


def test_notes_and_tag_deletion(mlflow, client, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.set_tag("mlflow.note.content", "# Why\nbaseline with **dropout**")
        mlflow.set_tag("tmp", "x")
    client.delete_tag(run.info.run_id, "tmp")
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["mlflow.note.content"].startswith("# Why")
    assert "tmp" not in tags
    with pytest.raises(MlflowException) as err:
        client.delete_tag(run.info.run_id, "tmp")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_param_overwrite_is_an_mlflow_exception(mlflow, exp_name):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run():
        mlflow.log_param("alpha", 1)
        mlflow.log_param("alpha", 1)  # the same value again is fine
        with pytest.raises(MlflowException) as err:
            mlflow.log_param("alpha", 2)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in err.value.message
    assert "alpha" in err.value.message


def test_log_batch_at_its_limits(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    run = client.create_run(exp_id)
    now = int(time.time() * 1000)
    # 1000 metrics is the most one request may carry; the client splits larger batches itself.
    client.log_batch(run.info.run_id, metrics=[Metric("m", float(i), now, i) for i in range(1000)])
    client.log_batch(
        run.info.run_id,
        params=[Param(f"p{i}", str(i)) for i in range(100)],
        tags=[RunTag(f"t{i}", "v" * 100) for i in range(100)],
    )
    # 2500 metrics: the client chunks these into requests the server must accept.
    client.log_batch(run.info.run_id, metrics=[Metric("big", float(i), now, i) for i in range(2500)])
    got = client.get_run(run.info.run_id)
    assert len(got.data.params) == 100
    assert sum(1 for k in got.data.tags if k.startswith("t")) == 100
    assert len(client.get_metric_history(run.info.run_id, "m")) == 1000
    assert len(client.get_metric_history(run.info.run_id, "big")) == 2500

    # Past the limits the server refuses with MLflow's error code; nothing is half-written.
    # (The client would split this batch itself, so send it the way another client might.)
    import json
    import urllib.error
    import urllib.request

    body = {"run_id": run.info.run_id, "params": [{"key": f"q{i}", "value": "x"} for i in range(101)]}
    req = urllib.request.Request(
        f"{client.tracking_uri}/api/2.0/mlflow/runs/log-batch",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(req)
    assert http_err.value.code == 400
    error = json.loads(http_err.value.read())
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "100" in error["message"]
    assert not any(k.startswith("q") for k in client.get_run(run.info.run_id).data.params)

    with pytest.raises(MlflowException) as err:
        client.log_param(run.info.run_id, "k" * 251, "v")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_long_param_values(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    run = client.create_run(exp_id)
    client.log_param(run.info.run_id, "long", "x" * 6000)
    assert client.get_run(run.info.run_id).data.params["long"] == "x" * 6000


def test_metric_history_paging(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    run = client.create_run(exp_id)
    now = int(time.time() * 1000)
    for start in range(0, 30000, 1000):
        client.log_batch(run.info.run_id, metrics=[Metric("loss", i * 0.001, now + i, i) for i in range(start, start + 1000)])
    # The client pages through get-history (25k per page) and concatenates.
    history = client.get_metric_history(run.info.run_id, "loss")
    assert len(history) == 30000
    assert [m.step for m in history[:3]] == [0, 1, 2]
    assert history[-1].step == 29999


def test_search_runs_filters_order_and_paging(mlflow, client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    for i in range(12):
        with mlflow.start_run(run_name=f"r{i:02d}"):
            mlflow.log_param("model", "cnn" if i % 2 else "mlp")
            mlflow.log_param("layers", i % 4)
            mlflow.log_metric("acc", i / 12)
            mlflow.set_tag("group", "even" if i % 2 == 0 else "odd")
    ids = [exp.experiment_id]

    df = mlflow.search_runs(ids, filter_string="metrics.acc > 0.5 and params.model = 'cnn'", order_by=["metrics.acc DESC"])
    assert list(df["tags.mlflow.runName"]) == ["r11", "r09", "r07"]
    assert {"run_id", "experiment_id", "status", "start_time", "metrics.acc", "params.model", "tags.group"} <= set(df.columns)

    runs = mlflow.search_runs(ids, filter_string="attributes.run_name LIKE 'r0%'", order_by=["attributes.run_name ASC"], output_format="list")
    assert [r.info.run_name for r in runs] == [f"r0{i}" for i in range(10)]

    runs = mlflow.search_runs(ids, filter_string="tags.group ILIKE 'EVEN' and params.layers != '0'", output_format="list")
    assert sorted(r.info.run_name for r in runs) == ["r02", "r06", "r10"]
    with pytest.raises(MlflowException, match="Invalid comparator 'IN'"):
        mlflow.search_runs(ids, filter_string="params.layers IN ('0', '2')")  # as in MLflow: IN is for attributes

    runs = mlflow.search_runs(ids, filter_string="`metrics`.`acc` >= 0.9", output_format="list")
    assert sorted(r.info.run_name for r in runs) == ["r11"]

    runs = mlflow.search_runs(ids, filter_string="attributes.status = 'FINISHED'", max_results=5, output_format="list")
    assert len(runs) == 5

    first = client.search_runs(ids, order_by=["metrics.acc ASC"], max_results=5)
    second = client.search_runs(ids, order_by=["metrics.acc ASC"], max_results=5, page_token=first.token)
    third = client.search_runs(ids, order_by=["metrics.acc ASC"], max_results=5, page_token=second.token)
    names = [r.info.run_name for r in [*first, *second, *third]]
    assert names == [f"r{i:02d}" for i in range(12)]
    assert not third.token

    one = runs[0].info.run_id
    by_id = mlflow.search_runs(ids, filter_string=f"attributes.run_id IN ('{one}')", output_format="list")
    assert [r.info.run_id for r in by_id] == [one]

    with pytest.raises(MlflowException) as err:
        mlflow.search_runs(ids, filter_string="metrics.acc >>> 1")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_runs_null_ordering(mlflow, exp_name):
    exp = mlflow.set_experiment(exp_name)
    for name, acc in [("a", 0.5), ("b", None), ("c", 0.9)]:
        with mlflow.start_run(run_name=name):
            if acc is not None:
                mlflow.log_metric("acc", acc)
    asc = mlflow.search_runs([exp.experiment_id], order_by=["metrics.acc ASC"], output_format="list")
    desc = mlflow.search_runs([exp.experiment_id], order_by=["metrics.acc DESC"], output_format="list")
    # MLflow sorts runs without the metric last in both directions.
    assert [r.info.run_name for r in asc] == ["a", "c", "b"]
    assert [r.info.run_name for r in desc] == ["c", "a", "b"]


def test_search_experiments(client, exp_name):
    ids = [client.create_experiment(f"{exp_name}-{i}", tags={"kind": "sweep" if i < 2 else "one"}) for i in range(3)]
    found = client.search_experiments(filter_string=f"name LIKE '{exp_name}-%' AND tags.kind = 'sweep'", order_by=["name DESC"])
    assert [e.experiment_id for e in found] == [ids[1], ids[0]]
    page = client.search_experiments(filter_string=f"name LIKE '{exp_name}-%'", max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_experiments(filter_string=f"name LIKE '{exp_name}-%'", max_results=2, page_token=page.token)
    assert len(rest) == 1


def test_experiment_lifecycle_and_tags(client, exp_name):
    exp_id = client.create_experiment(exp_name, tags={"a": "1"})
    with pytest.raises(MlflowException) as err:
        client.create_experiment(exp_name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.set_experiment_tag(exp_id, "b", "2")
    if hasattr(client, "delete_experiment_tag"):  # the client has it since mlflow 3
        client.delete_experiment_tag(exp_id, "a")
        assert client.get_experiment(exp_id).tags == {"b": "2"}
    else:
        assert client.get_experiment(exp_id).tags == {"a": "1", "b": "2"}
    client.rename_experiment(exp_id, exp_name + "-renamed")
    assert client.get_experiment(exp_id).name == exp_name + "-renamed"
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert exp_id not in [e.experiment_id for e in client.search_experiments()]
    assert exp_id in [e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    with pytest.raises(MlflowException) as err:
        client.get_experiment("987654321")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_restore_and_terminate_runs(mlflow, client, exp_name):
    exp_id = client.create_experiment(exp_name)
    run = client.create_run(exp_id, run_name="manual")
    client.log_metric(run.info.run_id, "x", 1)
    client.set_terminated(run.info.run_id, status="KILLED")
    got = client.get_run(run.info.run_id)
    assert got.info.status == "KILLED" and got.info.end_time
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert mlflow.search_runs([exp_id], output_format="list") == []
    deleted = mlflow.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY, output_format="list")
    assert [r.info.run_id for r in deleted] == [run.info.run_id]
    client.restore_run(run.info.run_id)
    assert [r.info.run_id for r in mlflow.search_runs([exp_id], output_format="list")] == [run.info.run_id]
    client.update_run(run.info.run_id, name="renamed")
    assert client.get_run(run.info.run_id).info.run_name == "renamed"
    with pytest.raises(MlflowException) as err:
        client.get_run("0" * 32)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_failed_run_status(mlflow, client, exp_name):
    mlflow.set_experiment(exp_name)
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0
    assert client.get_run(run.info.run_id).info.status == "FAILED"


def test_log_inputs_dataset(mlflow, client, exp_name):
    pd = pytest.importorskip("pandas")
    mlflow.set_experiment(exp_name)
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [d.dataset.name for d in inputs] == ["toy"]
    assert inputs[0].tags[0].key == "mlflow.data.context" and inputs[0].tags[0].value == "training"
    found = mlflow.search_runs(filter_string="dataset.name = 'toy'", output_format="list", search_all_experiments=True)
    assert run.info.run_id in [r.info.run_id for r in found]


def test_restart_keeps_everything(server, mlflow, client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("kept", 7, step=3)
        mlflow.log_param("p", "v")
    server.stop()
    server.start()
    mlflow.set_tracking_uri(server.url)
    got = mlflow.MlflowClient(server.url).get_run(run.info.run_id)
    assert got.data.metrics == {"kept": 7}
    assert got.data.params == {"p": "v"}
    assert got.info.experiment_id == exp.experiment_id
