"""GenAI evaluation datasets and registered scorers through the real client (mlflow.genai)."""
import json
import urllib.error
import urllib.request
import uuid

import pytest

from reference_server import ReferenceServer

pytestmark = pytest.mark.mlflow3("evaluation datasets and registered scorers are mlflow.genai (mlflow 3)")
try:
    import mlflow.genai.datasets as datasets
except ImportError:  # the 2.x client: the marker skips every test here
    datasets = None


def _name(prefix="ds"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _rest(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{url}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _by_question(df):
    return {r["inputs"]["question"]: r for r in df.to_dict("records")}


def test_create_merge_get_search_delete(mlflow, exp_name):
    exp = mlflow.set_experiment(exp_name).experiment_id
    name = _name()
    ds = datasets.create_dataset(name=name, experiment_id=exp, tags={"team": "eval"})
    assert ds.dataset_id.startswith("d-") and len(ds.digest) == 8
    assert ds.name == name and ds.tags["team"] == "eval" and ds.experiment_ids == [exp]
    assert ds.created_time == ds.last_update_time

    ds.merge_records([
        {"inputs": {"question": "2+2?"}, "expectations": {"answer": "4"}},
        {"inputs": {"question": "capital of France?"}, "expectations": {"answer": "Paris"}, "tags": {"src": "manual"}},
    ])
    # Same inputs update the stored record: expectations merge, nothing is added.
    ds.merge_records([{"inputs": {"question": "2+2?"}, "expectations": {"explanation": "sum"}}])

    got = datasets.get_dataset(dataset_id=ds.dataset_id)
    assert json.loads(got.profile) == {"num_records": 2}
    assert json.loads(got.schema) == {
        "inputs": {"question": "string"}, "outputs": {}, "expectations": {"answer": "string", "explanation": "string"}, "version": "1.0"}
    assert got.digest != ds.digest and got.last_update_time >= ds.last_update_time
    rows = _by_question(got.to_df())
    assert rows["2+2?"]["expectations"] == {"answer": "4", "explanation": "sum"}
    assert rows["capital of France?"]["tags"]["src"] == "manual"
    assert all(r["dataset_record_id"].startswith("dr-") for r in rows.values())
    assert got.experiment_ids == [exp]

    try:
        by_name = datasets.get_dataset(name=name)  # a name search (the client asks search_datasets)
    except ValueError as e:  # mlflow 3.6: "Parameter 'name' is only supported in Databricks environments"
        assert "Databricks" in str(e)
    else:
        assert by_name.dataset_id == ds.dataset_id

    found = datasets.search_datasets(experiment_ids=[exp], filter_string=f"name = '{name}'")
    assert [d.dataset_id for d in found] == [ds.dataset_id]
    assert datasets.search_datasets(filter_string=f"name = '{name}' AND tags.team = 'other'") == []

    datasets.delete_dataset(dataset_id=ds.dataset_id)
    with pytest.raises(mlflow.exceptions.MlflowException, match="not found") as err:
        datasets.get_dataset(dataset_id=ds.dataset_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_dataframe_records_and_tags(mlflow, exp_name):
    import pandas as pd

    exp = mlflow.set_experiment(exp_name).experiment_id
    ds = datasets.create_dataset(name=_name(), experiment_id=exp)
    ds.merge_records(pd.DataFrame([
        {"inputs": {"question": "q1"}, "expectations": {"answer": "a1"}},
        {"inputs": {"question": "q2"}, "expectations": {"answer": "a2"}},
    ]))
    assert len(datasets.get_dataset(dataset_id=ds.dataset_id).to_df()) == 2

    datasets.set_dataset_tags(ds.dataset_id, {"stage": "dev", "n": 3})
    datasets.delete_dataset_tag(ds.dataset_id, "stage")
    datasets.delete_dataset_tag(ds.dataset_id, "never-set")  # idempotent, as in MLflow
    tags = datasets.get_dataset(dataset_id=ds.dataset_id).tags
    assert tags.get("n") == "3" and "stage" not in tags


def _client_links_datasets():
    import inspect

    from mlflow.store.tracking.rest_store import RestStore

    # mlflow 3.6's RestStore has no route for these RPCs (a KeyError in the client itself).
    return "add-experiments" in inspect.getsource(RestStore.add_dataset_to_experiments)


def test_dataset_experiment_links(mlflow, client, exp_name):
    if not _client_links_datasets():
        pytest.skip("this client cannot call AddDatasetToExperiments over REST")
    exp = mlflow.set_experiment(exp_name).experiment_id
    other = client.create_experiment(_name("exp"))
    ds = datasets.create_dataset(name=_name(), experiment_id=exp)
    client.add_dataset_to_experiments(ds.dataset_id, [other])
    assert sorted(datasets.get_dataset(dataset_id=ds.dataset_id).experiment_ids) == sorted([exp, other])
    assert [d.dataset_id for d in datasets.search_datasets(experiment_ids=[other])] == [ds.dataset_id]
    client.remove_dataset_from_experiments(ds.dataset_id, [other, "424242"])  # unknown ids are skipped
    assert datasets.get_dataset(dataset_id=ds.dataset_id).experiment_ids == [exp]
    with pytest.raises(mlflow.exceptions.MlflowException, match="No Experiment with id=424242"):
        client.add_dataset_to_experiments(ds.dataset_id, ["424242"])


def test_dataset_rest_edges(server, mlflow, exp_name):
    exp = mlflow.set_experiment(exp_name).experiment_id
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/datasets/create", {"experiment_ids": [exp]})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE" and "'name'" in body["message"]
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/datasets/create", {"name": "x", "tags": "not json"})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    _, created = _rest(server.url, "POST", "/api/3.0/mlflow/datasets/create", {"name": _name(), "experiment_ids": [exp]})
    did = created["dataset"]["dataset_id"]
    records = [{"inputs": {"q": "a"}, "outputs": "text", "source": {"source_type": "trace", "source_data": {"trace_id": "tr-1"}}},
               {"inputs": {"q": "b"}, "outputs": None},
               {"inputs": {"q": "a"}, "tags": {"mlflow.user": "al"}}]
    status, body = _rest(server.url, "POST", f"/api/3.0/mlflow/datasets/{did}/records", {"records": json.dumps(records)})
    assert (status, body) == (200, {"inserted_count": 2, "updated_count": 1})
    status, body = _rest(server.url, "POST", f"/api/3.0/mlflow/datasets/{did}/records",
                         {"records": json.dumps([{"inputs": {"q": "c"}, "source": {"source_type": "WEIRD"}}])})
    assert status == 400 and "Invalid dataset record source type: WEIRD" in body["message"]
    _, page = _rest(server.url, "GET", f"/api/3.0/mlflow/datasets/{did}/records?max_results=1")
    first = json.loads(page["records"])
    assert len(first) == 1 and page["next_page_token"]
    _, rest = _rest(server.url, "GET", f"/api/3.0/mlflow/datasets/{did}/records?max_results=5&page_token={page['next_page_token']}")
    by_q = {r["inputs"]["q"]: r for r in first + json.loads(rest["records"])}
    assert by_q["a"]["source"] == {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}
    assert by_q["a"]["source_id"] == "tr-1" and by_q["a"]["source_type"] == "TRACE"
    assert by_q["a"]["outputs"] == "text" and by_q["a"]["last_updated_by"] == "al" and "created_by" not in by_q["a"]
    assert "outputs" not in by_q["b"]
    _, got = _rest(server.url, "GET", f"/api/3.0/mlflow/datasets/{did}")
    assert got["dataset"]["last_updated_by"] == "al" and "experiment_ids" not in got["dataset"]
    status, body = _rest(server.url, "DELETE", f"/api/3.0/mlflow/datasets/{did}/records",
                         {"dataset_record_ids": [by_q["b"]["dataset_record_id"], "dr-nope"]})
    assert (status, body) == (200, {"deleted_count": 1})
    _, got = _rest(server.url, "GET", f"/api/3.0/mlflow/datasets/{did}")
    assert json.loads(got["dataset"]["profile"]) == {"num_records": 1}
    # Unknown datasets: reads are empty and deletes succeed, as mlflow server answers them.
    assert _rest(server.url, "GET", "/api/3.0/mlflow/datasets/d-nope/records") == (200, {"records": "[]"})
    assert _rest(server.url, "GET", "/api/3.0/mlflow/datasets/d-nope/experiment-ids") == (200, {})
    assert _rest(server.url, "DELETE", "/api/3.0/mlflow/datasets/d-nope") == (200, {})
    status, body = _rest(server.url, "GET", "/api/3.0/mlflow/datasets/d-nope")
    assert status == 404 and body == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Evaluation dataset with id 'd-nope' not found"}
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/datasets/search", {"filter_string": "created_time > '5'"})
    assert status == 400 and "Expected numeric value type" in body["message"]
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/datasets/search", {"order_by": ["tags.a ASC"]})
    assert status == 400 and body["message"] == "Invalid order_by entity: tag"


def _judge():
    from mlflow.genai.scorers import RelevanceToQuery

    return RelevanceToQuery()


def test_registered_scorers(mlflow, exp_name):
    from mlflow.genai.scorers import delete_scorer, get_scorer, list_scorers

    exp = mlflow.set_experiment(exp_name).experiment_id
    _judge().register(name="relevance", experiment_id=exp)
    _judge().register(name="relevance", experiment_id=exp)
    assert [s.name for s in list_scorers(experiment_id=exp)] == ["relevance"]
    assert get_scorer(name="relevance", experiment_id=exp).name == "relevance"
    assert get_scorer(name="relevance", experiment_id=exp, version=1).name == "relevance"
    with pytest.raises(mlflow.exceptions.MlflowException, match="version 9 not found"):
        get_scorer(name="relevance", experiment_id=exp, version=9)
    delete_scorer(name="relevance", experiment_id=exp, version=1)
    get_scorer(name="relevance", experiment_id=exp, version=2)
    delete_scorer(name="relevance", experiment_id=exp, version="all")
    assert list_scorers(experiment_id=exp) == []
    with pytest.raises(mlflow.exceptions.MlflowException, match="not found"):
        get_scorer(name="relevance", experiment_id=exp)


def test_scorer_rest_answers(server, mlflow, exp_name):
    exp = mlflow.set_experiment(exp_name).experiment_id
    ser = json.dumps({"name": "s", "builtin_scorer_class": "RelevanceToQuery", "builtin_scorer_pydantic_data": {"name": "s"}})
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/scorers/register", {"experiment_id": exp, "name": "s", "serialized_scorer": ser})
    assert status == 200 and body["version"] == 1 and body["experiment_id"] == exp and body["name"] == "s"
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/scorers/register",
                         {"experiment_id": exp, "name": "d", "serialized_scorer": json.dumps({"call_source": "return 1"})})
    assert status == 400 and body["message"].startswith("Custom scorer registration (using @scorer decorator) is disabled")
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/scorers/register", {"experiment_id": exp, "name": "x", "serialized_scorer": "nope"})
    assert (status, body["message"]) == (400, "serialized_scorer must be valid JSON")
    status, body = _rest(server.url, "POST", "/api/3.0/mlflow/scorers/register", {"experiment_id": "abc", "name": "x", "serialized_scorer": "{}"})
    assert (status, body["message"]) == (400, "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.")
    status, body = _rest(server.url, "GET", f"/api/3.0/mlflow/scorers/list?experiment_id={exp}")
    assert status == 200 and [(s["experiment_id"], s["scorer_name"], s["scorer_version"]) for s in body["scorers"]] == [(int(exp), "s", 1)]
    status, body = _rest(server.url, "GET", f"/api/3.0/mlflow/scorers/list?experiment_id={exp}&experiment_ids={exp}")
    assert status == 400 and body["message"].startswith("Cannot specify both 'experiment_id' and 'experiment_ids'")
    status, body = _rest(server.url, "DELETE", "/api/3.0/mlflow/scorers/delete", {"experiment_id": exp, "name": "s", "version": 4})
    assert (status, body["message"]) == (404, f"Scorer with name 's' and version 4 not found for experiment {exp}.")


def _normalized_dataset(d):
    out = {k: v for k, v in d.items() if k not in ("dataset_id", "digest", "created_time", "last_update_time", "experiment_ids")}
    for key in ("tags", "schema", "profile"):
        if key in out:
            out[key] = json.loads(out[key])
    return out


def _normalized_records(records):
    drop = ("dataset_record_id", "dataset_id", "created_time", "last_update_time")
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in records), key=lambda r: json.dumps(r["inputs"], sort_keys=True))


def test_datasets_match_mlflow_server(server, tmp_path):
    """The same REST conversation against runlens and a real `mlflow server` (SQLite)."""

    def conversation(url):
        _, e = _rest(url, "POST", "/api/2.0/mlflow/experiments/create", {"name": "parity"})
        exp = e["experiment_id"]
        _, created = _rest(url, "POST", "/api/3.0/mlflow/datasets/create",
                           {"name": "parity", "experiment_ids": [exp], "tags": json.dumps({"mlflow.user": "bob", "n": 5, "x": None})})
        did = created["dataset"]["dataset_id"]
        batches = [
            [{"inputs": {"q": "a", "n": 1}, "expectations": {"answer": "x"}, "tags": {"t": "1"}},
             {"inputs": {"q": "b"}, "outputs": "plain", "source": {"source_type": "human", "source_data": {"source_id": "u1"}}},
             {"inputs": {"q": "c"}, "source": {"source_type": "DOCUMENT"}}],
            [{"inputs": {"n": 1, "q": "a"}, "expectations": {"other": 2}, "tags": {"mlflow.user": "al"}, "outputs": None},
             {"inputs": {"q": "d"}}, {"inputs": {"q": "d"}, "expectations": {"z": 1.5}}],
        ]
        counts = [_rest(url, "POST", f"/api/3.0/mlflow/datasets/{did}/records", {"records": json.dumps(b)})[1] for b in batches]
        _rest(url, "PATCH", f"/api/3.0/mlflow/datasets/{did}/tags", {"tags": json.dumps({"b": "2", "n": 7, "z": None})})
        _rest(url, "DELETE", f"/api/3.0/mlflow/datasets/{did}/tags/b")
        _, got = _rest(url, "GET", f"/api/3.0/mlflow/datasets/{did}")
        _, recs = _rest(url, "GET", f"/api/3.0/mlflow/datasets/{did}/records")
        _, linked = _rest(url, "POST", f"/api/3.0/mlflow/datasets/{did}/add-experiments", {"experiment_ids": ["0"]})
        _, ids = _rest(url, "GET", f"/api/3.0/mlflow/datasets/{did}/experiment-ids")
        _, found = _rest(url, "POST", "/api/3.0/mlflow/datasets/search", {"filter_string": "name LIKE 'par%' AND tags.n = '7'"})
        _, none = _rest(url, "POST", "/api/3.0/mlflow/datasets/search", {"experiment_ids": ["abc"]})
        return {
            "created": _normalized_dataset(created["dataset"]),
            "counts": counts,
            "dataset": _normalized_dataset(got["dataset"]),
            "records": _normalized_records(json.loads(recs["records"])),
            "linked": _normalized_dataset(linked["dataset"]),
            "experiment_ids": sorted(ids["experiment_ids"]) == sorted([exp, "0"]),
            "found": [d["name"] for d in found.get("datasets", [])],
            "none": none,
        }

    ours = conversation(server.url)
    reference = ReferenceServer(tmp_path)
    try:
        theirs = conversation(reference.url)
    finally:
        reference.stop()
    assert ours == theirs
