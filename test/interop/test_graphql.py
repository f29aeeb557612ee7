"""/graphql against a real `mlflow server`: the four documents the MLflow UI sends (extracted from
its build, `mlflow_ui_graphql_documents.json`, with the `__typename`s Apollo adds), other fields
of the schema, NaN and infinite metrics, variables, fragments, aliases and graphql-core's errors.
Both servers get the same data; answers must be the same JSON once ids and times are masked."""
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from reference_server import ReferenceServer

DOCS = json.loads((Path(__file__).parent / "mlflow_ui_graphql_documents.json").read_text())


def _with_typenames(doc):
    """What Apollo sends: `__typename` added to every selection set below the root."""
    out, depth = [], 0
    for ch in doc:
        out.append(ch)
        if ch == "{":
            depth += 1
            if depth > 1:
                out.append(" __typename ")
        elif ch == "}":
            depth -= 1
    return "".join(out)


def _populate(mlflow, url, exp_name):
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(exp_name)
    import pandas as pd

    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", "0.1")
        mlflow.set_tag("team", "a")
        mlflow.log_metric("loss", float("nan"), step=0)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metric("acc", 0.25, step=3)
        mlflow.log_metric("up", float("inf"))
        mlflow.log_metric("down", float("-inf"))
        mlflow.log_metric("only_nan", float("nan"))
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"a": [1]}), name="ds"), context="training")
        mlflow.log_text("hello", "notes/a.txt")
    with mlflow.start_run(run_name="second") as second:
        mlflow.log_metric("loss", 0.75, step=1)
    client = mlflow.MlflowClient()
    rm = f"rm-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(rm)
    client.create_model_version(rm, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    return {"run": run.info.run_id, "second": second.info.run_id, "exp": run.info.experiment_id, "rm": rm}


@pytest.fixture(scope="module")
def both(tmp_path_factory, server):
    import mlflow

    exp_name = f"graphql-{uuid.uuid4().hex[:8]}"
    reference = ReferenceServer(tmp_path_factory.mktemp("reference"))
    try:
        theirs = _populate(mlflow, reference.url, exp_name)
        ours = _populate(mlflow, server.url, exp_name)
        yield {"ours": (server.url, ours), "theirs": (reference.url, theirs)}
    finally:
        mlflow.set_tracking_uri(server.url)
        reference.stop()


def _post(url, body):
    req = urllib.request.Request(f"{url}/graphql", data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.headers.get("Content-Type"), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read().decode()


TIME_KEYS = {"startTime", "endTime", "timestamp", "creationTime", "lastUpdateTime", "creationTimestamp", "lastUpdatedTimestamp"}


def _mask(value, ids):
    if isinstance(value, dict):
        def one(k, v):
            if k in TIME_KEYS and v not in (None, "0"):
                return "<time>"
            if k == "nextPageToken" and v:
                return "<token>"  # the store's own page-token encoding, as over REST
            if k == "experimentId" and v == ids["exp"]:
                return "{exp}"
            return _mask(v, ids)
        return {k: one(k, v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_mask(v, ids) for v in value]
        # Metrics, params and tags come in store order, which GetRun over REST doesn't fix either.
        if items and all(isinstance(v, dict) and "key" in v for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return items
    if isinstance(value, str):
        for key, v in sorted(ids.items(), key=lambda kv: -len(kv[1])):
            if len(v) < 8 and key == "exp":
                value = re.sub(rf"(?<=/){re.escape(v)}(?=/|$)", "{exp}", value)
                continue
            value = re.sub(rf"(?<![0-9A-Za-z]){re.escape(v)}(?![0-9A-Za-z])", "{" + key + "}", value)
        # Artifact locations differ by server setup (mlflow-artifacts:/ proxy vs a local folder).
        value = re.sub(r"^(mlflow-artifacts:|/)\S*?(/\{run\}/artifacts|/?\{exp\})", r"<root>\2", value)
    return value


def _compare(both, body, mask_body=True):
    answers = {}
    for side, (url, ids) in both.items():
        text = json.dumps(body)
        for key, v in ids.items():
            text = text.replace("{" + key + "}", v)
        status, ctype, raw = _post(url, json.loads(text))
        answers[side] = (status, ctype, _mask(json.loads(raw), ids) if mask_body else json.loads(raw))
    assert answers["ours"][0] == answers["theirs"][0] == 200
    assert answers["ours"][1] == answers["theirs"][1] == "application/json"
    if answers["ours"][2] != answers["theirs"][2]:
        Path("/tmp/graphql-diff.json").write_text(json.dumps(answers, indent=1))
    assert answers["ours"][2] == answers["theirs"][2], json.dumps(answers, indent=1)[:3000]
    return answers["ours"][2]


@pytest.mark.parametrize("typenames", [False, True])
def test_ui_get_run_matches_mlflow(both, typenames):
    doc = DOCS["GetRun"]
    out = _compare(both, {"operationName": "GetRun", "query": _with_typenames(doc) if typenames else doc, "variables": {"data": {"runId": "{run}"}}})
    metrics = {m["key"]: m["value"] for m in out["data"]["mlflowGetRun"]["run"]["data"]["metrics"]}
    assert metrics["only_nan"] is None and metrics["up"] == 1.7976931348623157e308 and metrics["down"] == -1.7976931348623157e308


@pytest.mark.parametrize("typenames", [False, True])
def test_ui_search_runs_matches_mlflow(both, typenames):
    doc = DOCS["SearchRuns"]
    _compare(both, {"operationName": "SearchRuns", "query": _with_typenames(doc) if typenames else doc,
                    "variables": {"data": {"experimentIds": ["{exp}"], "filter": "attributes.run_name = 'first'"}}})


@pytest.mark.parametrize("typenames", [False, True])
def test_ui_get_experiment_matches_mlflow(both, typenames):
    doc = DOCS["MlflowGetExperimentQuery"]
    _compare(both, {"operationName": "MlflowGetExperimentQuery", "query": _with_typenames(doc) if typenames else doc, "variables": {"input": {"experimentId": "{exp}"}}})


@pytest.mark.parametrize("key", ["loss", "acc", "up", "only_nan", "missing"])
def test_ui_metric_history_bulk_interval_matches_mlflow(both, key):
    doc = DOCS["GetMetricHistoryBulkInterval"]
    _compare(both, {"operationName": "GetMetricHistoryBulkInterval", "query": _with_typenames(doc),
                    "variables": {"data": {"runIds": ["{run}", "{second}"], "metricKey": key, "startStep": 1, "endStep": 1, "maxResults": 1}}})


@pytest.mark.parametrize("query", [
    '{ mlflowGetRun(input: {runId: "nope"}) { run { info { runId } } apiError { code message } } }',
    '{ mlflowGetRun(input: {}) { run { info { runId } } } }',
    '{ mlflowGetRun { run { info { runId } } } }',
    '{ mlflowGetExperiment(input: {experimentId: "987654"}) { experiment { name } } }',
    '{ mlflowListArtifacts(input: {runId: "{run}"}) { rootUri files { path isDir fileSize } nextPageToken } }',
    '{ mlflowListArtifacts(input: {runId: "{run}", path: "notes"}) { files { path isDir fileSize } } }',
    '{ mlflowListArtifacts(input: {runId: "{run}", path: "../x"}) { files { path } } }',
    '{ mlflowListArtifacts(input: {runId: "nope"}) { rootUri } }',
    '{ mlflowSearchModelVersions(input: {filter: "name=\'{rm}\'"}) { modelVersions { name version status source runId currentStage tags { key } aliases } nextPageToken } }',
    '{ mlflowGetRun(input: {runUuid: "{run}"}) { run { modelVersions { name version status } experiment { name tags { key value } } } } }',
    'mutation { mlflowSearchDatasets(input: {experimentIds: ["{exp}"]}) { datasetSummaries { experimentId name digest context } apiError { code } } }',
    'mutation { mlflowSearchDatasets(input: {experimentIds: []}) { datasetSummaries { name } } }',
    'mutation M { mlflowSearchRuns(input: {experimentIds: ["{exp}"], maxResults: 1, orderBy: ["attributes.run_name"]}) { nextPageToken runs { info { runName status } } } }',
    '{ __typename test(inputString: "hi") { output __typename } }',
    'query Q($r: String) { a: mlflowGetRun(input: {runId: $r}) { run { info { id: runId status } } } }',
    'query { mlflowGetRun(input: {runId: "{run}"}) { run { ...R } } } fragment R on MlflowRunExtension { info { runName } ... on MlflowRunExtension { data { params { key value } } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { bogus } }',
    '{ mlflowGetRun(input: {runId: 5}) { run { info { runId } } } }',
    '{ mlflowGetRun(input: {runId: "x", bogus: 1}) { run { info { runId } } } }',
    '{ mlflowGetRun(input: {runId: "x"}, foo: 1) { run { info { runId } } } }',
    '{ mlflowGetRun(input: {runId: "x"}) }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { info { status { x } } } } }',
    '{ a: test(inputString: "a") { output } a: test(inputString: "b") { output } }',
    '{ test(inputString: "a") { ...G } }',
    '{ test(inputString: "a") { ... on Query { __typename } } }',
    '{ test(inputString: "a") { output @skip(if: true) } }',
    'query Q($x: String) { test(inputString: $y) { output } }',
    'query A { test(inputString: "a") { output } } query B { test(inputString: "b") { output } }',
    'query { ' + " ".join(f"t{i}: test(inputString: \"{i}\") {{ output }}" for i in range(11)) + " }",
    '{ test(inputString: "a") { output } } fragment Unused on Test { output }',
])
def test_graphql_fields_and_errors_match_mlflow(both, query):
    _compare(both, {"query": query, "variables": {"r": "{run}"} if "$r" in query else None})


@pytest.mark.parametrize("variables", [None, {"data": {"runId": 5}}, {"data": {"runId": "{run}", "bogus": 1}}, {"data": None}, {"data": "x"}])
def test_graphql_variables_match_mlflow(both, variables):
    _compare(both, {"query": DOCS["GetRun"], "variables": variables})


def test_graphql_operation_name_picks_the_operation(both):
    _compare(both, {"query": 'query A { test(inputString: "a") { output } } query B { test(inputString: "b") { output } }', "operationName": "B"})
    _compare(both, {"query": 'query A { test(inputString: "a") { output } }', "operationName": "C"})


def test_graphql_refuses_what_is_not_one_request(server):
    # mlflow server answers these with a 500 page; Runlens says what is wrong.
    for body in ([{"query": "{ __typename }"}], {}, {"query": "{ mlflowGetRun( "}):
        status, ctype, raw = _post(server.url, body)
        assert status == 400 and ctype == "application/json", (body, raw)
        assert json.loads(raw)["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST")
    status, _, raw = _post(server.url, {"query": "{ mlflowGetRun( "})
    assert json.loads(raw)["message"] == "Syntax Error: Expected Name, found <EOF>."
