"""QueryTraceMetrics (`/api/3.0/mlflow/traces/metrics`) and CalculateTraceFilterCorrelation
against a real `mlflow server` fed the same traces by the same client."""
import json
import math
import urllib.error
import urllib.request
import uuid

from test_otlp import reference  # noqa: F401  (module-scoped reference server)
import pytest

pytestmark = pytest.mark.mlflow3("3.x trace APIs (trace metrics, span text search)")


def _call(url, path, body):
    req = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        err = json.load(e)
        return e.code, {"error_code": err.get("error_code"), "message": err.get("message")}


def _seed(mlflow, url):
    mlflow.set_tracking_uri(url)
    exp_id = mlflow.set_experiment(f"metrics-{uuid.uuid4().hex[:8]}").experiment_id

    @mlflow.trace(name="chat")
    def chat(q):
        with mlflow.start_span("llm", span_type="LLM") as s:
            s.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": len(q), "output_tokens": 2, "total_tokens": len(q) + 2})
        return q

    @mlflow.trace(name="fail")
    def fail():
        raise ValueError("x")

    for q in ["a", "bbb", "cc"]:
        chat(q)
    try:
        fail()
    except ValueError:
        pass
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.log_feedback(trace_id=trace_id, name="good", value=True)
    mlflow.log_feedback(trace_id=trace_id, name="score", value=0.5)
    return exp_id


def _metric_queries(exp_id):
    count = [{"aggregation_type": "COUNT"}]
    q = lambda **kw: {"experiment_ids": [exp_id], **kw}  # noqa: E731
    return [
        q(view_type="TRACES", metric_name="trace_count", aggregations=count),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, dimensions=["trace_status"]),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, dimensions=["trace_name", "trace_status"]),
        q(view_type="TRACES", metric_name="total_tokens", aggregations=[{"aggregation_type": t} for t in ("SUM", "AVG", "MIN", "MAX")]
          + [{"aggregation_type": "PERCENTILE", "percentile_value": p} for p in (50, 90)]),
        q(view_type="TRACES", metric_name="input_tokens", aggregations=[{"aggregation_type": "SUM"}], dimensions=["trace_name"]),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, filters=['trace.status = "ERROR"']),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, filters=['trace.tag.mlflow.traceName = "chat"']),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, time_interval_seconds=86400, start_time_ms=0, end_time_ms=9999999999999),
        q(view_type="TRACES", metric_name="session_count", aggregations=count),
        q(view_type="SPANS", metric_name="span_count", aggregations=count),
        q(view_type="SPANS", metric_name="span_count", aggregations=count, dimensions=["span_name", "span_status"]),
        q(view_type="ASSESSMENTS", metric_name="assessment_count", aggregations=count, dimensions=["assessment_name"]),
        q(view_type="ASSESSMENTS", metric_name="assessment_value", aggregations=[{"aggregation_type": "AVG"}], dimensions=["assessment_name"]),
        # Refusals: MLflow's messages.
        q(view_type="TRACES", metric_name="nope", aggregations=count),
        q(view_type="TRACES", metric_name="latency", aggregations=[{"aggregation_type": "SUM"}]),
        q(view_type="TRACES", metric_name="latency", aggregations=[{"aggregation_type": "AVG"}], dimensions=["trace_status"]),
        q(view_type="TRACES", metric_name="trace_count", aggregations=count, time_interval_seconds=60),
    ]


def _correlation_queries(exp_id):
    q = lambda **kw: {"experiment_ids": [exp_id], **kw}  # noqa: E731
    return [
        q(filter_string1="trace.status = 'OK'", filter_string2="trace.name = 'chat'"),
        q(filter_string1="trace.status = 'ERROR'", filter_string2="trace.status = 'OK'"),
        q(filter_string1="trace.status = 'OK'", filter_string2="trace.status = 'OK'", base_filter="trace.name = 'chat'"),
        q(filter_string1="trace.status = 'OK'", filter_string2="trace.status = 'IN_PROGRESS'"),
        q(filter_string1="trace.status = 'OK'"),
    ]


def test_trace_metrics_and_correlations_match_mlflow_server(mlflow, server, reference):  # noqa: F811
    try:
        answers = {}
        for url in (server.url, reference.url):
            exp_id = _seed(mlflow, url)
            metrics = [_call(url, "/api/3.0/mlflow/traces/metrics", b) for b in _metric_queries(exp_id)]
            correlations = [_call(url, "/api/3.0/mlflow/traces/calculate-filter-correlation", b) for b in _correlation_queries(exp_id)]
            answers[url] = (metrics, correlations)
    finally:
        mlflow.set_tracking_uri(server.url)
    (our_metrics, our_corr), (their_metrics, their_corr) = answers[server.url], answers[reference.url]
    for i, (ours, theirs) in enumerate(zip(our_metrics, their_metrics)):
        assert ours == theirs, (i, _metric_queries("x")[i])
    for i, (ours, theirs) in enumerate(zip(our_corr, their_corr)):
        assert ours[0] == theirs[0], i
        for key in set(ours[1]) | set(theirs[1]):
            a, b = ours[1].get(key), theirs[1].get(key)
            assert (a == b) or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b)), (i, key, a, b)
    assert our_metrics[0] == (200, {"data_points": [{"metric_name": "trace_count", "values": {"COUNT": 4}}]})


_TEXT_FILTERS = [
    "trace.text LIKE '%Paris%'", "trace.text LIKE '%paris%'", "trace.text ILIKE '%PARIS%'", "trace.text LIKE '%Sunny in Z%'",
    "trace.text LIKE '%zürich%'", "trace.text LIKE '%ZÜRICH%'", "trace.text LIKE '%Berlin_x%'", "trace.text LIKE '%Berlin%x%'",
    "span.content LIKE '%city%' AND trace.text LIKE '%Berlin%'", "trace.text LIKE 'Paris'", "trace.text LIKE '%\"name\": \"tool\"%'",
    "trace.text = 'Paris'", "span.content != 'x'",
]


def _text_search(mlflow, url):
    mlflow.set_tracking_uri(url)
    exp_id = mlflow.set_experiment(f"text-{uuid.uuid4().hex[:8]}").experiment_id

    @mlflow.trace(name="ask")
    def ask(q):
        with mlflow.start_span("tool") as s:
            s.set_inputs({"city": q})
            s.set_outputs("Sunny in " + q)
        return {"answer": q.upper()}

    for q in ["Paris", "Zürich", "Berlin_x"]:
        ask(q)
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()
    out = []
    for f in _TEXT_FILTERS:
        try:
            out.append(sorted(t.info.request_preview for t in mlflow.search_traces(locations=[exp_id], filter_string=f, return_type="list")))
        except Exception as e:  # noqa: BLE001  (the refusal message is what is compared)
            # MLflow prints a Python set, whose order changes from one server process to the next.
            out.append(str(e).split("\n")[0].replace("{'ILIKE', 'LIKE'}", "{'LIKE', 'ILIKE'}"))
    return out


def test_span_text_search_matches_mlflow_server(mlflow, server, reference):  # noqa: F811
    try:
        ours, theirs = _text_search(mlflow, server.url), _text_search(mlflow, reference.url)
    finally:
        mlflow.set_tracking_uri(server.url)
    assert ours == theirs
    assert ours[0] == ['{"q": "Paris"}'] and ours[1] == []
