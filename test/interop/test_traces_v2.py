"""MLflow 2's trace RPCs (StartTrace, EndTrace, GetTraceInfo, SearchTraces under /api/2.0), which
MLflow 3.17.2's server still answers: raw HTTP compared with a real `mlflow server`, and the
2.x client's own trace store calls (run this file with the 2.x venv to exercise them)."""
import json
import urllib.error
import urllib.request
import uuid

import pytest

from test_otlp import _create_experiment, reference  # noqa: F401  (module-scoped reference server)


def _call(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(f"{url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _scrub(info, request_id, exp_id):
    """A v2 TraceInfo with this server's ids replaced, so two servers' answers compare."""
    text = json.dumps(info).replace(request_id, "<id>").replace(f"mlflow-artifacts:/{exp_id}/", "mlflow-artifacts:/<exp>/")
    out = json.loads(text)
    out["experiment_id"] = "<exp>"
    # Clients read these lists as maps: their order carries nothing.
    for key in ("request_metadata", "tags"):
        if key in out:
            out[key] = sorted(out[key], key=lambda kv: kv["key"])
    return out


def _v2_session(url):
    exp_id = _create_experiment(url)
    results = {}
    status, started = _call(url, "POST", "/api/2.0/mlflow/traces", {
        "experiment_id": exp_id, "timestamp_ms": 1700000000000,
        "request_metadata": [{"key": "mlflow.traceInputs", "value": '{"q": "hi"}'}],
        "tags": [{"key": "mlflow.traceName", "value": "root"}, {"key": "t", "value": "1"}]})
    rid = started["trace_info"]["request_id"]
    results["start"] = (status, _scrub(started["trace_info"], rid, exp_id))
    results["start without timestamp"] = _call(url, "POST", "/api/2.0/mlflow/traces", {"experiment_id": exp_id})[1]["trace_info"]["timestamp_ms"]
    status, ended = _call(url, "PATCH", f"/api/2.0/mlflow/traces/{rid}", {
        "request_id": rid, "timestamp_ms": 1700000000500, "status": "ERROR",
        "request_metadata": [{"key": "mlflow.traceOutputs", "value": '"bye"'}], "tags": [{"key": "t2", "value": "2"}]})
    results["end"] = (status, _scrub(ended["trace_info"], rid, exp_id))
    status, info = _call(url, "GET", f"/api/2.0/mlflow/traces/{rid}/info")
    results["info"] = (status, _scrub(info["trace_info"], rid, exp_id))
    results["tag"] = _call(url, "PATCH", f"/api/2.0/mlflow/traces/{rid}/tags", {"key": "k", "value": "v"})
    status, found = _call(url, "GET", f"/api/2.0/mlflow/traces?experiment_ids={exp_id}&filter=tag.k%20%3D%20%27v%27&max_results=1&order_by=timestamp_ms%20DESC")
    results["search"] = (status, [_scrub(t, rid, exp_id) for t in found["traces"]], "next_page_token" in found)
    results["untag"] = _call(url, "DELETE", f"/api/2.0/mlflow/traces/{rid}/tags", {"key": "k"})
    results["missing trace"] = _call(url, "GET", "/api/2.0/mlflow/traces/0123456789abcdef0123456789abcdef/info")
    results["no experiments"] = _call(url, "GET", "/api/2.0/mlflow/traces?max_results=5")
    results["too many"] = _call(url, "GET", f"/api/2.0/mlflow/traces?experiment_ids={exp_id}&max_results=501")
    results["delete"] = _call(url, "POST", "/api/2.0/mlflow/traces/delete-traces", {"experiment_id": exp_id, "request_ids": [rid]})
    return results


def _comparable(value):
    """Error bodies compare on error_code and message (MLflow 3.17 adds sqlstate/error_class)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and "error_code" in value[1]:
        return value[0], {"error_code": value[1]["error_code"], "message": value[1]["message"]}
    return value


def test_v2_trace_rpcs_answer_like_mlflow_server(server, reference):  # noqa: F811
    ours, theirs = _v2_session(server.url), _v2_session(reference.url)
    assert ours["start"][1]["status"] == "IN_PROGRESS" and ours["end"][1]["execution_time_ms"] == 500
    for key in theirs:
        assert _comparable(ours[key]) == _comparable(theirs[key]), key


def test_a_2x_client_records_and_reads_a_trace(server):
    mlflow = pytest.importorskip("mlflow")
    if not mlflow.__version__.startswith("2."):
        pytest.skip("needs an MLflow 2.x client (the .venv/v2 interpreter)")
    from mlflow.entities import TraceData
    from mlflow.entities.trace_status import TraceStatus
    from mlflow.tracking._tracking_service.client import TrackingServiceClient

    mlflow.set_tracking_uri(server.url)
    exp_id = mlflow.set_experiment(f"v2-{uuid.uuid4().hex[:8]}").experiment_id
    client = TrackingServiceClient(server.url)
    store = client.store
    info = store.start_trace(exp_id, 1700000000000, {"mlflow.traceInputs": '{"q": "hi"}'}, {"mlflow.traceName": "root"})
    rid = info.request_id
    span = lambda name, sid, parent, status: {  # noqa: E731
        "name": name, "context": {"span_id": sid, "trace_id": "0x" + "a" * 32}, "parent_id": parent,
        "start_time": 1700000000000000000, "end_time": 1700000000500000000, "status_code": status, "status_message": "",
        "attributes": {"mlflow.traceRequestId": json.dumps(rid), "mlflow.spanType": '"CHAIN"', "mlflow.spanInputs": '{"q": "hi"}'},
        "events": [{"name": "e", "timestamp": 1700000000100000000, "attributes": {"a": 1}}]}
    data = TraceData.from_dict({"spans": [span("root", "0x1111111111111111", None, "OK"), span("child", "0x2222222222222222", "0x1111111111111111", "ERROR")]})
    client._upload_trace_data(info, data)
    store.end_trace(rid, 1700000000500, TraceStatus.OK, {"mlflow.traceOutputs": '"bye"'}, {})
    trace = client.get_trace(rid)
    assert trace.info.status == TraceStatus.OK and trace.info.execution_time_ms == 500
    assert [(s.name, s.status.status_code.value, s.inputs) for s in trace.data.spans] == [("root", "OK", {"q": "hi"}), ("child", "ERROR", {"q": "hi"})]
    found, _ = store.search_traces([exp_id], filter_string="status = 'OK'", max_results=10)
    assert [t.request_id for t in found] == [rid]
    df = mlflow.search_traces(experiment_ids=[exp_id])
    assert len(df) == 1
    # The uploaded v2 spans are indexed too: span filters and the v3 read both see them.
    status, got = _call(server.url, "GET", f"/api/3.0/mlflow/traces/get?trace_id={rid}")
    assert status == 200 and [s["name"] for s in got["trace"]["spans"]] == ["root", "child"]
    assert store._delete_traces(exp_id, request_ids=[rid]) == 1


def test_a_2x_decorated_function_is_traced_end_to_end(mlflow, exp_name):
    """What a 2.x user writes: @mlflow.trace, then search_traces and get_trace from the same client."""
    if not mlflow.__version__.startswith("2."):
        pytest.skip("needs an MLflow 2.x client (the .venv/v2 interpreter)")
    from mlflow.entities.trace_status import TraceStatus

    exp_id = mlflow.set_experiment(exp_name).experiment_id

    @mlflow.trace(span_type="TOOL")
    def lookup(q):
        return f"answer to {q}"

    @mlflow.trace
    def agent(q):
        return lookup(q).upper()

    assert agent("why") == "ANSWER TO WHY"
    traces = mlflow.MlflowClient().search_traces(experiment_ids=[exp_id])
    assert len(traces) == 1
    trace = mlflow.MlflowClient().get_trace(traces[0].info.request_id)
    assert trace.info.status == TraceStatus.OK
    assert [(s.name, s.span_type) for s in trace.data.spans] == [("agent", "UNKNOWN"), ("lookup", "TOOL")]
    assert trace.data.spans[1].inputs == {"q": "why"} and trace.data.spans[0].outputs == "ANSWER TO WHY"
