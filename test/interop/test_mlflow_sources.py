"""The readers of existing MLflow stores (src/backend/mlflowdb, src/backend/filestore) against the
real client reading the same store directly (stores and dumps: mlflow_store_fixtures.py)."""
import base64
import os
import math
import sqlite3
from datetime import datetime

import pytest

# First: it makes the older clients' SQL stores importable and allows the 3.x file store.
from mlflow_store_fixtures import KINDS, PAGED, dumper, store_path, store_uri, tags_of  # noqa: F401,I001  (dumper is a fixture)

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402


@pytest.fixture(scope="module", params=KINDS)
def pair(request, dumper):
    kind = request.param.replace("-paged", "")
    # Some client reads go through the global tracking URI; without this, 3.x would make ./mlflow.db.
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(store_uri(kind))
    mlflow.set_registry_uri(store_uri(kind))

    def restore():
        # set_*_uri also export MLFLOW_*_URI, and set_*_uri(None) leaves them: later modules'
        # registry calls would otherwise land in this cached store.
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    request.addfinalizer(restore)
    client = MlflowClient(store_uri(kind), store_uri(kind))
    ours = dumper(store_path(kind), env=PAGED if request.param.endswith("-paged") else None)
    assert ("metric history read from the file" in ours["description"]) == request.param.endswith("-paged")
    return kind, client, ours


def _metric_key(m):
    v = m["value"]
    return (m["key"], m["step"], m["timestamp"], "nan" if isinstance(v, float) and math.isnan(v) else v)


def _all_experiments(client):
    return client.search_experiments(view_type=ViewType.ALL)


def test_detects_and_describes(pair):
    kind, _, ours = pair
    assert ours["kind"] == ("mlflow.db" if kind == "db" else "mlruns") == ours["detected"]
    if kind == "db":
        revision = sqlite3.connect(store_path("db")).execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert revision in ours["description"]


def test_experiments(pair):
    _, client, ours = pair
    theirs = {
        e.experiment_id: {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "artifact_location": e.artifact_location,
            "lifecycle_stage": e.lifecycle_stage,
            "creation_time": e.creation_time,
            "last_update_time": e.last_update_time,
            "tags": dict(e.tags),
        }
        for e in _all_experiments(client)
    }
    mine = {e["experiment_id"]: {**e, "tags": tags_of(e["tags"])} for e in ours["experiments"]}
    assert mine == theirs
    assert "0" in mine and mine["0"]["name"] == "Default"
    assert {e["lifecycle_stage"] for e in mine.values()} == {"active", "deleted"}
    assert any(e["tags"].get("team") == "vision" for e in mine.values())


def _their_runs(client):
    ids = [e.experiment_id for e in _all_experiments(client)]
    return client.search_runs(ids, run_view_type=ViewType.ALL, max_results=50000)


def test_runs_info_params_tags_latest_metrics_inputs(pair, mlflow3):
    _, client, ours = pair
    mine = {r["info"]["run_id"]: r for runs in ours["runs"].values() for r in runs}
    theirs = _their_runs(client)
    assert set(mine) == {r.info.run_id for r in theirs}
    assert len(mine) >= 7
    for t in theirs:
        m = mine[t.info.run_id]
        info = t.info
        assert m["info"] == {
            "run_id": info.run_id,
            "run_uuid": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": info.lifecycle_stage,
        }, info.run_id
        assert tags_of(m["data"]["params"]) == t.data.params
        assert tags_of(m["data"]["tags"]) == t.data.tags
        their_latest = sorted(_metric_key({"key": x.key, "value": x.value, "timestamp": x.timestamp, "step": x.step}) for x in t.data._metric_objs)
        assert sorted(_metric_key(x) for x in m["data"]["metrics"]) == their_latest
        their_inputs = sorted(
            (
                d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema, d.dataset.profile,
                tuple(sorted((tag.key, tag.value) for tag in d.tags)),
            )
            for d in t.inputs.dataset_inputs
        )
        my_inputs = sorted(
            (
                d["dataset"]["name"], d["dataset"]["digest"], d["dataset"]["source_type"], d["dataset"]["source"],
                d["dataset"].get("schema"), d["dataset"].get("profile"), tuple(sorted((tag["key"], tag["value"]) for tag in d["tags"])),
            )
            for d in m["inputs"]["dataset_inputs"]
        )
        assert my_inputs == their_inputs
        if mlflow3:
            assert sorted(x["model_id"] for x in m["inputs"]["model_inputs"]) == sorted(x.model_id for x in t.inputs.model_inputs)
            assert sorted((x["model_id"], x["step"]) for x in m["outputs"]["model_outputs"]) == sorted((x.model_id, x.step) for x in (t.outputs.model_outputs if t.outputs else []))
    by_name = {r["info"]["run_name"]: r for r in mine.values()}
    assert {"parent", "child-0", "child-1", "child-2", "to-delete", "in-default", "doomed-run"} <= set(by_name)
    assert by_name["to-delete"]["info"]["lifecycle_stage"] == "deleted"
    parent = by_name["parent"]
    assert all(tags_of(by_name[f"child-{i}"]["data"]["tags"])["mlflow.parentRunId"] == parent["info"]["run_id"] for i in range(3))
    assert any(math.isnan(x["value"]) for x in parent["data"]["metrics"] if x["key"] == "nan_metric")
    assert parent["inputs"]["dataset_inputs"], "the dataset input was read"


def test_metric_history_for_every_key(pair):
    _, client, ours = pair
    checked = 0
    for t in _their_runs(client):
        mine = ours["history"][t.info.run_id]
        assert {x["key"] for x in mine} == set(t.data.metrics)
        for key in t.data.metrics:
            theirs = sorted(_metric_key({"key": x.key, "value": x.value, "timestamp": x.timestamp, "step": x.step}) for x in client.get_metric_history(t.info.run_id, key))
            assert sorted(_metric_key(x) for x in mine if x["key"] == key) == theirs, (t.info.run_id, key)
            checked += len(theirs)
    assert checked >= 1000
    loss = [x for h in ours["history"].values() for x in h if x["key"] == "loss"]
    assert len(loss) == 1000 and sorted(x["step"] for x in loss) == list(range(1000))


def test_registry_models_versions_aliases(pair):
    _, client, ours = pair
    mine = {m["model"]["name"]: m for m in ours["registeredModels"]}
    theirs = client.search_registered_models()
    assert set(mine) == {rm.name for rm in theirs} == {"reg-model", "empty-model"}
    for rm in theirs:
        m = mine[rm.name]["model"]
        assert (m["creation_timestamp"], m["last_updated_timestamp"], m.get("description")) == (rm.creation_timestamp, rm.last_updated_timestamp, rm.description)
        assert tags_of(m["tags"]) == rm.tags
        assert {a["alias"]: a["version"] for a in m["aliases"]} == {k: str(v) for k, v in rm.aliases.items()}
        versions = {v["version"]: v for v in mine[rm.name]["versions"]}
        their_versions = client.search_model_versions(f"name='{rm.name}'")
        assert set(versions) == {str(v.version) for v in their_versions}
        for sv in their_versions:
            v = client.get_model_version(rm.name, sv.version)  # search leaves aliases out on SQL stores
            got = versions[str(v.version)]
            expected = {
                "creation_timestamp": v.creation_timestamp,
                "last_updated_timestamp": v.last_updated_timestamp,
                "current_stage": v.current_stage,
                "description": v.description,
                "source": v.source,
                "run_id": v.run_id,
                "status": v.status,
                "run_link": v.run_link,
                "user_id": v.user_id,
                "model_id": getattr(v, "model_id", None),
                "aliases": sorted(v.aliases),
                "tags": v.tags,
            }
            assert {k: (sorted(got.get(k) or []) if k == "aliases" else tags_of(got["tags"]) if k == "tags" else got.get(k)) for k in expected} == expected
    reg = mine["reg-model"]
    assert {v["version"]: v["current_stage"] for v in reg["versions"]} == {"1": "Staging", "2": "None"}
    assert {a["alias"]: a["version"] for a in reg["model"]["aliases"]} == {"champion": "2"}


def _hex(span_id):
    if span_id is None:
        return None
    try:
        raw = base64.b64decode(span_id, validate=True)
        if len(raw) in (8, 16):
            return raw.hex()
    except ValueError:
        pass
    return span_id.replace("0x", "")


def _norm_span(d):
    """A span dict (v3, or MLflow 2's with `context`) as comparable fields."""
    if "context" in d:
        return (d["name"], _hex(d["context"]["span_id"]), _hex(d["parent_id"]), int(d["start_time"]), int(d["end_time"]), d["attributes"])
    return (d["name"], _hex(d["span_id"]), _hex(d["parent_span_id"]), int(d["start_time_unix_nano"]), int(d["end_time_unix_nano"]), d["attributes"])


def _ms(rfc3339):
    return round(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


def _norm_assessment(a):
    a = dict(a)
    # The file store's Expectation entity drops `valid` (its yaml says true); readers keep the file's value.
    a.setdefault("valid", True)
    a["create_time"] = _ms(a["create_time"])
    a["last_update_time"] = _ms(a["last_update_time"])
    return a


def test_traces_spans_assessments(pair, mlflow3):
    _, client, ours = pair
    mine = {t["info"]["trace_id"]: t for traces in ours["traces"].values() for t in traces}
    exp_ids = [e.experiment_id for e in _all_experiments(client) if e.lifecycle_stage == "active"]
    theirs = client.search_traces(experiment_ids=exp_ids)
    assert len(theirs) >= 1
    assert set(mine) == {(t.info.trace_id if mlflow3 else t.info.request_id) for t in theirs}
    for t in theirs:
        info = t.info
        tid = info.trace_id if mlflow3 else info.request_id
        m = mine[tid]["info"]
        if mlflow3:
            assert _ms(m["request_time"]) == info.request_time
            assert m["state"] == info.state.value
            assert m["trace_metadata"] == info.trace_metadata
            assert (m.get("request_preview"), m.get("response_preview"), m.get("client_request_id")) == (info.request_preview, info.response_preview, info.client_request_id)
            duration = info.execution_duration
            from google.protobuf.json_format import MessageToDict

            assert sorted((_norm_assessment(a) for a in m["assessments"]), key=lambda a: a["assessment_id"]) == sorted(
                (_norm_assessment(MessageToDict(a.to_proto(), preserving_proto_field_name=True)) for a in info.assessments), key=lambda a: a["assessment_id"]
            )
        else:
            assert _ms(m["request_time"]) == info.timestamp_ms
            assert m["state"] == {"TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}.get(str(info.status.value), str(info.status.value))
            assert m["trace_metadata"] == info.request_metadata
            duration = info.execution_time_ms
        assert m["tags"] == info.tags
        assert m.get("execution_duration") == (None if duration is None else f"{duration / 1000:.3f}".rstrip("0").rstrip(".") + "s")
        full = client.get_trace(tid)
        their_spans = sorted((_norm_span(s.to_dict()) for s in full.data.spans), key=lambda s: s[1])
        assert sorted((_norm_span(s) for s in mine[tid]["spans"]), key=lambda s: s[1]) == their_spans
        assert len(their_spans) == 2 and {s[0] for s in their_spans} == {"root_call", "child"}
    if mlflow3:
        kinds = {next(iter(set(a) & {"feedback", "expectation"})) for t in mine.values() for a in t["info"]["assessments"]}
        assert kinds == {"feedback", "expectation"}


@pytest.mark.mlflow3("logged models are MLflow 3")
def test_logged_models(pair):
    from google.protobuf.json_format import MessageToDict

    _, client, ours = pair
    mine = {m["info"]["model_id"]: m for models in ours["loggedModels"].values() for m in models}
    exp_ids = [e.experiment_id for e in _all_experiments(client) if e.lifecycle_stage == "active"]
    theirs = client.search_logged_models(experiment_ids=exp_ids)
    assert set(mine) == {lm.model_id for lm in theirs} and len(mine) == 1
    for lm in theirs:
        d = MessageToDict(lm.to_proto(), preserving_proto_field_name=True)
        info, got = d["info"], mine[lm.model_id]
        for k in ("model_id", "experiment_id", "name", "artifact_uri", "status", "model_type", "source_run_id", "status_message"):
            assert got["info"].get(k) == info.get(k), k
        assert got["info"]["creation_timestamp_ms"] == int(info["creation_timestamp_ms"])
        assert got["info"]["last_updated_timestamp_ms"] == int(info["last_updated_timestamp_ms"])
        assert tags_of(got["info"]["tags"]) == lm.tags
        assert tags_of(got["data"]["params"]) == lm.params
        assert sorted((x["key"], x["value"], x["timestamp"], x["step"], x.get("run_id")) for x in got["data"]["metrics"]) == sorted(
            (x.key, x.value, x.timestamp, x.step, x.run_id) for x in lm.metrics
        )


def _their_artifacts(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.extend(_their_artifacts(client, run_id, f.path) if f.is_dir else [f.path])
    return out


def test_artifact_files(pair):
    _, client, ours = pair
    for t in _their_artifacts_runs(client):
        got = ours["runArtifacts"][t.info.run_id]
        assert got["uri"] == t.info.artifact_uri
        assert got["dir"] is not None, got
        assert sorted(got["files"] or []) == sorted(_their_artifacts(client, t.info.run_id))
    parent = next(r for runs in ours["runs"].values() for r in runs if r["info"]["run_name"] == "parent")
    assert sorted(ours["runArtifacts"][parent["info"]["run_id"]]["files"]) == ["notes/hello.txt", "tree/sub/a.json", "tree/sub/deeper/b.txt"]


def _their_artifacts_runs(client):
    return _their_runs(client)
