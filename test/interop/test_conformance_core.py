"""Core tracking semantics that must match `mlflow server` exactly (each checked against one)."""
import math

import pytest
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LinearRegression  # noqa: E402


def _history(client, run_id, key):
    return [(m.step, m.timestamp, "NaN" if math.isnan(m.value) else m.value) for m in client.get_metric_history(run_id, key)]


@pytest.mark.mlflow3("3.x log_model (logged models, metrics re-sent with model_id)")
def test_log_model_does_not_double_the_run_metrics(mlflow, client, exp_name):
    # The 3.x client re-sends the run's metrics with the new model's id on log_model: MLflow
    # stores the run's point once and gives the model its copy.
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.5, step=0)
        info = mlflow.sklearn.log_model(LinearRegression().fit([[1], [2]], [1, 2]), name="model")
    hist = client.get_metric_history(run.info.run_id, "acc")
    assert [(m.value, m.step) for m in hist] == [(0.5, 0)]
    model = client.get_logged_model(info.model_id)
    assert [(m.key, m.value, m.step, m.run_id) for m in model.metrics] == [("acc", 0.5, 0, run.info.run_id)]
    assert client.get_run(run.info.run_id).data.metrics == {"acc": 0.5}


def test_the_same_batch_logged_twice_is_stored_once(client, exp_name):
    exp = client.create_experiment(exp_name)
    run_id = client.create_run(exp).info.run_id
    batch = [Metric("a", 1.0, 1000, 0), Metric("a", 2.0, 1000, 1), Metric("n", float("nan"), 1000, 0)]
    client.log_batch(run_id, metrics=batch)
    client.log_batch(run_id, metrics=batch)
    client.log_batch(run_id, metrics=[Metric("n", float("nan"), 1000, 0), Metric("n", 0.0, 1000, 0), Metric("z", -0.0, 5, 0)])
    client.log_batch(run_id, metrics=[Metric("z", 0.0, 5, 0)])
    client.log_metric(run_id, "a", 1.0, timestamp=1000, step=0)
    assert _history(client, run_id, "a") == [(0, 1000, 1.0), (1, 1000, 2.0)]
    assert _history(client, run_id, "n") == [(0, 1000, 0.0), (0, 1000, "NaN")]
    assert _history(client, run_id, "z") == [(0, 5, 0.0)]


def test_search_runs_is_null_and_is_not_null_on_params_and_tags(client, exp_name):
    exp = client.create_experiment(exp_name)
    a = client.create_run(exp, run_name="a").info.run_id
    b = client.create_run(exp, run_name="b").info.run_id
    client.log_param(a, "p", "1")
    client.set_tag(b, "t", "x")
    client.log_param(b, "q", "")

    def names(flt):
        return sorted(r.info.run_name for r in client.search_runs([exp], flt))

    assert names("params.p IS NULL") == ["b"]
    assert names("params.p IS NOT NULL") == ["a"]
    assert names("tags.t is null") == ["a"]
    assert names("params.q IS NOT NULL") == ["b"]
    assert names("params.p IS NULL AND tags.t IS NOT NULL") == ["b"]
    assert names("params.`p` IS NULL AND params.q = ''") == ["b"]
    with pytest.raises(MlflowException, match=r"IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'm'"):
        client.search_runs([exp], "metrics.m IS NULL")


def test_registry_accepts_a_runs_source_whose_run_does_not_exist(client, exp_name):
    # MLflow's server checks that run_id names the source's run, not that the run exists.
    fake = "0123456789abcdef0123456789abcdef"
    name = f"{exp_name}-reg"
    client.create_registered_model(name)
    mv = client.create_model_version(name, f"runs:/{fake}/model", run_id=fake)
    assert (mv.version, mv.source, mv.run_id) == ("1", f"runs:/{fake}/model", fake)
    with pytest.raises(MlflowException, match="The run_id request parameter must identify the resource that contains the source"):
        client.create_model_version(name, f"runs:/{fake}/model", run_id="f" * 32)


@pytest.mark.mlflow3("3.x logged models")
def test_a_logged_model_may_name_a_source_run_that_does_not_exist(client, exp_name):
    exp = client.create_experiment(exp_name)
    model = client.create_logged_model(exp, source_run_id="0123456789abcdef0123456789abcdef")
    assert client.get_logged_model(model.model_id).source_run_id == "0123456789abcdef0123456789abcdef"


def test_a_relative_artifact_location_is_made_absolute_by_the_server(client, exp_name):
    # The server process runs in the test's working directory (conftest starts it without cwd).
    import os

    exp = client.create_experiment(exp_name, artifact_location="rel/dir")
    assert client.get_experiment(exp).artifact_location == os.path.join(os.getcwd(), "rel", "dir")


@pytest.mark.mlflow3("3.x logged models")
def test_a_model_version_from_a_logged_model_is_listed_in_its_model_versions_tag(client, exp_name):
    exp = client.create_experiment(exp_name)
    lm = client.create_logged_model(exp)
    client.finalize_logged_model(lm.model_id, "READY")
    for name in (f"{exp_name}-a", f"{exp_name}-b"):
        client.create_registered_model(name)
    for name in (f"{exp_name}-a", f"{exp_name}-a", f"{exp_name}-b"):
        client.create_model_version(name, f"models:/{lm.model_id}", model_id=lm.model_id)
    assert client.get_logged_model(lm.model_id).tags["mlflow.modelVersions"] == (
        f'[{{"name": "{exp_name}-a", "version": 1}}, {{"name": "{exp_name}-a", "version": 2}}, {{"name": "{exp_name}-b", "version": 1}}]'
    )


@pytest.mark.mlflow3("3.x trace ids and link-to-run")
def test_a_trace_linked_to_a_run_before_it_is_exported_is_found_by_the_run(mlflow, client, exp_name):
    # MLflow's server records a link without looking the trace (or the run) up, so a trace linked
    # while still open, before its info reaches the server, belongs to the run once it arrives.
    exp = mlflow.set_experiment(exp_name).experiment_id
    run_id = client.create_run(exp).info.run_id
    with mlflow.start_span("pending") as span:
        client.link_traces_to_run([span.trace_id], run_id)
        trace_id = span.trace_id
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()
    found = client.search_traces([exp], filter_string=f"attributes.run_id = '{run_id}'")
    assert [t.info.trace_id for t in found] == [trace_id]
    client.link_traces_to_run(["tr-0123456789abcdef0123456789abcdef"], "f" * 32)  # neither exists: no error


@pytest.mark.mlflow3("3.x logged models")
def test_model_tagged_metrics_sent_twice_are_stored_once_on_run_and_model(client, exp_name):
    exp = client.create_experiment(exp_name)
    run = client.create_run(exp).info.run_id
    lm = client.create_logged_model(exp, source_run_id=run)
    batch = [Metric("acc", 0.5, 1000, 0, model_id=lm.model_id), Metric("acc", 0.7, 1000, 1, model_id=lm.model_id)]
    client.log_batch(run, metrics=batch)
    client.log_batch(run, metrics=batch)
    assert sorted((m.key, m.value, m.step) for m in client.get_logged_model(lm.model_id).metrics) == [("acc", 0.5, 0), ("acc", 0.7, 1)]
    assert [(m.value, m.step) for m in client.get_metric_history(run, "acc")] == [(0.5, 0), (0.7, 1)]
