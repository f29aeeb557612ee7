"""Logged models, the model registry and model loading, with the real client against runlens serve."""
import numpy as np
import pytest
from mlflow.exceptions import MlflowException

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _fit(X, y, C=1.0):
    return LogisticRegression(max_iter=300, C=C).fit(X, y)


def test_sklearn_round_trip_registry_and_loading(mlflow, client, exp_name, iris, named, mlflow3):
    X, y = iris
    mlflow.set_experiment(exp_name)
    name = f"{exp_name}-clf"
    model = _fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("accuracy", model.score(X, y))
        info = mlflow.sklearn.log_model(
            model,
            **named("model"),
            input_example=X.head(3),
            registered_model_name=name,
        )
    expected = model.predict(X)

    assert info.signature is not None  # inferred from the input example, stored in MLmodel
    # Logged models (mlflow 3): it exists, is READY, links back to the run, carries the run's metric.
    if mlflow3:
        logged = client.get_logged_model(info.model_id)
        assert logged.status.to_int() == 2 or str(logged.status).endswith("READY")
        assert logged.source_run_id == run.info.run_id
        assert mlflow.models.get_model_info(f"models:/{info.model_id}").signature == info.signature
        assert {m.key for m in logged.metrics} >= {"accuracy"}

    # Every URI form loads the same model and predicts the same classes.
    client.set_registered_model_alias(name, "champion", "1")
    client.transition_model_version_stage(name, "1", "Production")
    for uri in [
        f"runs:/{run.info.run_id}/model",
        *([f"models:/{info.model_id}"] if mlflow3 else []),
        f"models:/{name}/1",
        f"models:/{name}/Production",
        f"models:/{name}@champion",
        f"models:/{name}/latest",
    ]:
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(np.asarray(loaded.predict(X)).ravel(), expected, err_msg=uri)

    version = client.get_model_version(name, "1")
    assert version.current_stage == "Production"
    assert version.aliases == ["champion"]
    assert version.run_id == run.info.run_id
    assert client.get_model_version_by_alias(name, "champion").version == "1"


def test_register_model_versions_stages_tags_search(mlflow, client, exp_name, iris, named):
    X, y = iris
    mlflow.set_experiment(exp_name)
    name = f"{exp_name}-reg"
    run_ids = []
    for C in (0.1, 1.0, 10.0):
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(_fit(X, y, C), **named("model"))
            run_ids.append(run.info.run_id)
    versions = [mlflow.register_model(f"runs:/{rid}/model", name) for rid in run_ids]
    assert [v.version for v in versions] == ["1", "2", "3"]

    client.update_registered_model(name, description="iris classifiers")
    client.update_model_version(name, "2", description="C=1.0")
    client.set_registered_model_tag(name, "task", "classification")
    client.set_model_version_tag(name, "2", "validated", "yes")

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert client.get_model_version(name, "2").current_stage == "Production"
    latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Production": "2", "None": "3"}

    rm = client.get_registered_model(name)
    assert rm.description == "iris classifiers"
    assert rm.tags == {"task": "classification"}

    found = client.search_model_versions(f"name = '{name}' and tags.validated = 'yes'")
    assert [v.version for v in found] == ["2"]
    found = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]
    assert [m.name for m in client.search_registered_models(f"name LIKE '{exp_name}-re%'")] == [name]
    assert [m.name for m in client.search_registered_models("tags.task = 'classification'") if m.name == name] == [name]

    # Deleting a version never frees its number.
    client.delete_model_version(name, "3")
    with pytest.raises(MlflowException) as err:
        client.get_model_version(name, "3")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    again = mlflow.register_model(f"runs:/{run_ids[2]}/model", name)
    assert again.version == "4"

    # Alias rules and errors as in MLflow.
    with pytest.raises(MlflowException) as err:
        client.set_registered_model_alias(name, "latest", "1")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as err:
        client.get_model_version_by_alias(name, "nope")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as err:
        client.create_registered_model(name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.rename_registered_model(name, name + "-renamed")
    assert client.get_model_version(name + "-renamed", "2").description == "C=1.0"
    client.delete_registered_model(name + "-renamed")
    with pytest.raises(MlflowException) as err:
        client.get_registered_model(name + "-renamed")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_autolog(mlflow, client, exp_name, iris, mlflow3):
    X, y = iris
    mlflow.set_experiment(exp_name)
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=200, C=0.5).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = client.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert "training_accuracy_score" in got.data.metrics
    assert got.data.tags["estimator_class"].endswith("LogisticRegression")
    if mlflow3:
        models = client.search_logged_models(experiment_ids=[got.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'")
        assert len(models) == 1
        uri = f"models:/{models[0].model_id}"
    else:
        uri = f"runs:/{run.info.run_id}/model"  # 2.x autolog logs the model as a run artifact
    loaded = mlflow.pyfunc.load_model(uri)
    assert len(loaded.predict(X)) == len(X)
