"""Tracing and GenAI evaluation through the real, unchanged mlflow client (and an OTel SDK)."""
import json
import time
import urllib.error
import urllib.request

import pytest
from mlflow.exceptions import MlflowException
from reference_server import ReferenceServer


def _traced_rag(mlflow):
    @mlflow.trace(span_type="RETRIEVER")
    def retrieve(query):
        return [{"id": "doc-1", "text": "Paris is the capital of France."}, {"id": "doc-2", "text": "Berlin is in Germany."}]

    @mlflow.trace(span_type="LLM")
    def generate(query, docs):
        span = mlflow.get_current_active_span()
        span.set_attributes({"model": "tiny-llm", "temperature": 0.1})
        span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 42, "output_tokens": 7, "total_tokens": 49})
        return "Paris"

    @mlflow.trace(name="rag", span_type="CHAIN")
    def rag(query):
        with mlflow.start_span(name="rerank", span_type="RERANKER") as s:
            s.set_inputs({"n": 2})
            docs = retrieve(query)
            s.set_outputs({"kept": 1})
        return generate(query, docs[:1])

    return rag


def _search(mlflow, exp_id, **kwargs):
    """search_traces in the spelling the installed client prefers (3.6 deprecates experiment_ids for locations)."""
    import inspect

    if "locations" in inspect.signature(mlflow.search_traces).parameters:
        return mlflow.search_traces(locations=[exp_id], **kwargs)
    return mlflow.search_traces(experiment_ids=[exp_id], **kwargs)


def _flush(mlflow):
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()


def _last_trace(mlflow):
    _flush(mlflow)
    return mlflow.get_trace(mlflow.get_last_active_trace_id())


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_rag_trace_keeps_nested_spans_inputs_outputs_and_attributes(mlflow, exp_name):
    mlflow.set_experiment(exp_name)
    assert _traced_rag(mlflow)("capital of France?") == "Paris"
    trace = _last_trace(mlflow)
    assert trace.info.state == "OK"
    assert trace.info.request_preview and "capital of France" in trace.info.request_preview
    assert trace.info.response_preview == '"Paris"'
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"rag", "rerank", "retrieve", "generate"}
    assert spans["rag"].parent_id is None
    assert spans["rerank"].parent_id == spans["rag"].span_id
    assert spans["retrieve"].parent_id == spans["rerank"].span_id
    assert spans["generate"].parent_id == spans["rag"].span_id
    assert spans["retrieve"].span_type == "RETRIEVER" and spans["generate"].span_type == "LLM"
    assert spans["retrieve"].outputs[0]["id"] == "doc-1"
    assert spans["generate"].inputs["query"] == "capital of France?"
    assert spans["generate"].get_attribute("model") == "tiny-llm"
    assert spans["generate"].get_attribute("temperature") == 0.1
    assert spans["rerank"].outputs == {"kept": 1}
    assert trace.info.experiment_id == mlflow.get_experiment_by_name(exp_name).experiment_id
    by_attr = _search(mlflow, trace.info.experiment_id, filter_string="span.attributes.model = 'tiny-llm' AND span.type = 'RERANKER'", return_type="list")
    assert [t.info.trace_id for t in by_attr] == [trace.info.trace_id]
    # Trace info alone (no spans) reads back through GetTraceInfoV3 too.
    info = mlflow.MlflowClient().get_trace_info(trace.info.trace_id) if hasattr(mlflow.MlflowClient(), "get_trace_info") else trace.info
    assert info.trace_id == trace.info.trace_id


@pytest.mark.mlflow3("mlflow.get_active_trace_id and in-progress v3 traces")
def test_a_running_trace_shows_its_finished_spans_before_it_ends(mlflow, server, exp_name):
    mlflow.set_experiment(exp_name)
    seen = {}

    @mlflow.trace(span_type="TOOL")
    def step(i):
        return i

    @mlflow.trace(span_type="AGENT")
    def long_agent():
        step(1)
        step(2)
        _flush(mlflow)
        trace_id = mlflow.get_active_trace_id()
        with urllib.request.urlopen(f"{server.url}/runlens/api/trace?trace_id={trace_id}", timeout=30) as r:
            live = json.loads(r.read())
        seen["state"] = live["trace_info"]["state"]
        seen["spans"] = [s["name"] for s in live["spans"]]
        return "done"

    long_agent()
    assert seen == {"state": "IN_PROGRESS", "spans": ["step", "step"]}
    trace = _last_trace(mlflow)
    assert trace.info.state == "OK"
    assert [s.name for s in trace.data.spans] == ["long_agent", "step", "step"]


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_an_experiment_with_a_file_artifact_location_keeps_its_spans_readable(mlflow, exp_name, tmp_path):
    elsewhere = tmp_path / "artifacts-elsewhere"
    elsewhere.mkdir()
    exp_id = mlflow.create_experiment(exp_name, artifact_location=elsewhere.as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    _traced_rag(mlflow)("capital of France?")
    trace = _last_trace(mlflow)
    assert trace.info.tags["mlflow.artifactLocation"].startswith(elsewhere.as_uri())
    assert sorted(s.name for s in trace.data.spans) == ["generate", "rag", "rerank", "retrieve"]
    df = _search(mlflow, exp_id)
    assert len(df) == 1 and len(df.iloc[0]["spans"]) == 4


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_a_span_that_raises_marks_span_and_trace_as_error_with_the_exception(mlflow, exp_name):
    mlflow.set_experiment(exp_name)

    @mlflow.trace(span_type="TOOL")
    def flaky_tool(x):
        raise ValueError(f"tool failed on {x}")

    @mlflow.trace(span_type="AGENT")
    def agent(x):
        return flaky_tool(x)

    with pytest.raises(ValueError):
        agent(3)
    trace = _last_trace(mlflow)
    assert trace.info.state == "ERROR"
    tool = next(s for s in trace.data.spans if s.name == "flaky_tool")
    assert tool.status.status_code == "ERROR"
    exc = next(e for e in tool.events if e.name == "exception")
    assert exc.attributes["exception.type"] == "ValueError"
    assert "tool failed on 3" in exc.attributes["exception.message"]
    assert "Traceback" in exc.attributes["exception.stacktrace"]


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_search_traces_filters_orders_and_pages(mlflow, exp_name):
    exp_id = mlflow.set_experiment(exp_name).experiment_id

    @mlflow.trace(span_type="LLM")
    def slow(n):
        time.sleep(0.002 * n)
        return n

    @mlflow.trace
    def fast(n):
        return n

    for i in range(6):
        (slow if i % 2 else fast)(i)
        _flush(mlflow)
        mlflow.MlflowClient().set_trace_tag(mlflow.get_last_active_trace_id(), "parity", "odd" if i % 2 else "even")
    started = int(time.time() * 1000) - 60_000

    df = _search(mlflow, exp_id)
    assert len(df) == 6
    odd = _search(mlflow, exp_id, filter_string="tags.parity = 'odd'", return_type="list")
    assert len(odd) == 3 and all(t.info.tags["parity"] == "odd" for t in odd)
    llm = _search(mlflow, exp_id, filter_string="span.type = 'LLM'", return_type="list")
    assert sorted(t.info.tags["mlflow.traceName"] for t in llm) == ["slow"] * 3
    named = _search(mlflow, exp_id, filter_string="trace.name = 'fast' AND trace.status = 'OK'", return_type="list")
    assert len(named) == 3
    recent = _search(mlflow, exp_id, filter_string=f"trace.timestamp_ms > {started}", return_type="list")
    assert len(recent) == 6
    by_time = _search(mlflow, exp_id, order_by=["execution_time_ms DESC"], return_type="list")
    durations = [t.info.execution_duration for t in by_time]
    assert durations == sorted(durations, reverse=True)
    client = mlflow.MlflowClient()
    import inspect

    where = {"locations": [exp_id]} if "locations" in inspect.signature(client.search_traces).parameters else {"experiment_ids": [exp_id]}
    page1 = client.search_traces(**where, max_results=4)
    page2 = client.search_traces(**where, max_results=4, page_token=page1.token)
    assert len(page1) == 4 and len(page2) == 2 and page2.token is None
    assert not {t.info.trace_id for t in page1} & {t.info.trace_id for t in page2}
    with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE|Invalid"):
        _search(mlflow, exp_id, filter_string="span.bogus = 'x'")


@pytest.mark.mlflow3("mlflow.log_feedback / log_expectation (assessments)")
def test_feedback_and_expectations_round_trip(mlflow, exp_name):
    from mlflow.entities import AssessmentSource

    mlflow.set_experiment(exp_name)
    _traced_rag(mlflow)("q")
    trace_id = _last_trace(mlflow).info.trace_id
    human = AssessmentSource(source_type="HUMAN", source_id="ana@example.com")
    fb = mlflow.log_feedback(trace_id=trace_id, name="helpful", value=True, rationale="cited the source", source=human)
    exp = mlflow.log_expectation(trace_id=trace_id, name="expected_answer", value="Paris", source=human)
    assert fb.assessment_id.startswith("a-")
    got = mlflow.get_assessment(trace_id, fb.assessment_id)
    assert got.value is True and got.rationale == "cited the source" and got.source.source_id == "ana@example.com"
    updated = mlflow.update_assessment(trace_id=trace_id, assessment_id=fb.assessment_id, assessment=mlflow.entities.Feedback(name="helpful", value=False))
    assert updated.value is False
    newer = mlflow.override_feedback(trace_id=trace_id, assessment_id=fb.assessment_id, value=True, rationale="on reflection") if hasattr(mlflow, "override_feedback") else None
    trace = mlflow.get_trace(trace_id)
    by_id = {a.assessment_id: a for a in trace.info.assessments}
    assert by_id[exp.assessment_id].value == "Paris"
    if newer is not None:
        assert by_id[fb.assessment_id].valid is False and by_id[newer.assessment_id].valid is True
    hits = _search(mlflow, trace.info.experiment_id, filter_string="feedback.helpful = 'true'", return_type="list")
    assert [t.info.trace_id for t in hits] == ([trace_id] if newer is not None else [])
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=exp.assessment_id)
    assert exp.assessment_id not in {a.assessment_id for a in mlflow.get_trace(trace_id).info.assessments}
    with pytest.raises(MlflowException, match="not found|RESOURCE_DOES_NOT_EXIST"):
        mlflow.get_assessment(trace_id, exp.assessment_id)


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_trace_tags_link_to_run_and_delete(mlflow, exp_name):
    exp_id = mlflow.set_experiment(exp_name).experiment_id
    client = mlflow.MlflowClient()
    ids = []
    for i in range(3):
        _traced_rag(mlflow)(f"q{i}")
        _flush(mlflow)
        ids.append(mlflow.get_last_active_trace_id())
    client.set_trace_tag(ids[0], "reviewed", "yes")
    assert mlflow.get_trace(ids[0]).info.tags["reviewed"] == "yes"
    client.delete_trace_tag(ids[0], "reviewed")
    assert "reviewed" not in mlflow.get_trace(ids[0]).info.tags
    with mlflow.start_run() as run:
        pass
    client.link_traces_to_run(ids[:2], run.info.run_id) if hasattr(client, "link_traces_to_run") else pytest.skip("client has no link_traces_to_run")
    linked = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
    assert sorted(t.info.trace_id for t in linked) == sorted(ids[:2])
    assert client.delete_traces(exp_id, trace_ids=[ids[0]]) == 1
    assert client.delete_traces(exp_id, max_timestamp_millis=int(time.time() * 1000) + 1000, max_traces=1) == 1
    left = _search(mlflow, exp_id, return_type="list")
    assert len(left) == 1
    with pytest.raises(MlflowException):
        client.get_trace(ids[0])


@pytest.mark.mlflow3("mlflow.genai.evaluate and scorers")
def test_genai_evaluate_with_a_code_scorer(mlflow, exp_name):
    import pandas as pd
    from mlflow.genai.scorers import scorer

    mlflow.set_experiment(exp_name)

    @mlflow.trace
    def predict(question):
        return question.upper()

    @scorer
    def shouts(outputs):
        return outputs.isupper()

    @scorer
    def length(outputs):
        return len(outputs)

    data = pd.DataFrame({"inputs": [{"question": "hi"}, {"question": "hello"}, {"question": "hey"}]})
    result = mlflow.genai.evaluate(data=data, predict_fn=predict, scorers=[shouts, length])
    assert result.metrics["shouts/mean"] == 1.0
    assert result.metrics["length/mean"] == pytest.approx((2 + 5 + 3) / 3)
    run = mlflow.get_run(result.run_id)
    assert run.data.metrics["shouts/mean"] == 1.0
    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    assert len(traces) == 3
    for t in traces:
        names = {a.name: a for a in t.info.assessments}
        assert names["shouts"].value is True
        assert names["length"].source.source_type == "CODE"
    assert sorted(result.result_df["length/value"].tolist()) == [2, 3, 5]


def _otel_provider(url, exp_id):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "otel-agent"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers={"x-mlflow-experiment-id": exp_id})
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_an_opentelemetry_sdk_exporter_sends_spans_to_v1_traces(mlflow, server, exp_name):
    exp_id = mlflow.set_experiment(exp_name).experiment_id
    provider = _otel_provider(server.url, exp_id)
    tracer = provider.get_tracer("interop")
    with tracer.start_as_current_span("agent turn") as root:
        root.set_attribute("session.id", "chat-42")
        root.set_attribute("input.value", "book a table")
        with tracer.start_as_current_span("chat model") as llm:
            llm.set_attribute("gen_ai.usage.input_tokens", 30)
            llm.set_attribute("gen_ai.usage.output_tokens", 12)
        with tracer.start_as_current_span("tool: search") as tool:
            tool.add_event("retry", {"attempt": 2})
        trace_hex = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    trace = mlflow.get_trace(f"tr-{trace_hex}")
    assert trace.info.state == "OK"
    assert trace.info.request_metadata["mlflow.trace.session"] == "chat-42"
    assert trace.info.token_usage["total_tokens"] == 42
    # As MLflow: the preview is the stored (JSON-encoded) input text when it holds no chat messages.
    assert trace.info.request_preview == '"book a table"'
    names = {s.name: s for s in trace.data.spans}
    assert set(names) == {"agent turn", "chat model", "tool: search"}
    assert names["chat model"].parent_id == names["agent turn"].span_id
    assert names["tool: search"].events[0].attributes["attempt"] == 2
    found = _search(mlflow, exp_id, filter_string="span.name = 'tool: search'", return_type="list")
    assert [t.info.trace_id for t in found] == [f"tr-{trace_hex}"]


def _post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.legacy_traces("asserts 3.x trace entities (TraceInfo.state, trace_id, execution_duration) that the 2.x client does not have")
def test_malformed_otlp_and_trace_payloads_get_4xx_and_store_nothing(mlflow, server, exp_name):
    exp_id = mlflow.set_experiment(exp_name).experiment_id
    url = f"{server.url}/v1/traces"
    proto = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp_id}
    cases = [
        (b"\x0a\xff\xff\xff\xff\x0f garbage", proto, 400, "not a valid ExportTraceServiceRequest"),
        (b"{}", {"Content-Type": "text/plain", "x-mlflow-experiment-id": exp_id}, 400, "Content-Type"),
        (b"", {"Content-Type": "application/x-protobuf"}, 422, "x-mlflow-experiment-id"),
        (b"{not json", {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id}, 400, "not valid JSON"),
        (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "abc", "spanId": "01", "name": "x"}]}]}]}).encode(),
         {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id}, 400, "traceId is not a hex id"),
        (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "01", "name": "x"}]}]}]}).encode(),
         {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id}, 422, "has no trace id"),
        (b"\x00" * (65 * 1024 * 1024), proto, 413, "exceeds the limit"),
    ]
    for body, headers, status, message in cases:
        got, text = _post(url, body, headers)
        assert got == status, (headers, text[:200])
        err = json.loads(text)
        assert err["error_code"] and message in err["message"], err
    assert _search(mlflow, exp_id, return_type="list") == []

    # A good OTLP/JSON export is accepted.
    trace_hex = "5b8efff798038103d269b633813fc60c"
    good = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_hex, "spanId": "eee19b7ec3c1b174", "name": "json span",
        "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
        "attributes": [{"key": "gen_ai.input.messages", "value": {"stringValue": "hello"}}], "status": {"code": 1}}]}]}]}
    status, _ = _post(url, json.dumps(good).encode(), {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id})
    assert status == 200
    trace = mlflow.get_trace(f"tr-{trace_hex}")
    assert trace.info.execution_duration == 500 and trace.info.request_preview == '"hello"'

    # A corrupt traces.json upload for an existing trace is refused and leaves the trace's spans alone.
    _traced_rag(mlflow)("q")
    trace = _last_trace(mlflow)
    location = trace.info.tags["mlflow.artifactLocation"].replace("mlflow-artifacts:/", "")
    put = urllib.request.Request(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{location}/traces.json", data=b'{"spans": [{"name": 1}]}', method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(put, timeout=30)
    assert err.value.code == 400 and "span_id" in json.loads(err.value.read())["message"]
    assert len(mlflow.get_trace(trace.info.trace_id).data.spans) == 4


@pytest.mark.mlflow3("mlflow.log_feedback and the v3 search_traces DataFrame")
def test_search_traces_dataframe_matches_mlflow_server(mlflow, server, exp_name, tmp_path):
    def frame(url):
        mlflow.set_tracking_uri(url)
        mlflow.set_experiment(exp_name)
        rag = _traced_rag(mlflow)
        rag("capital of France?")
        _flush(mlflow)
        mlflow.MlflowClient().set_trace_tag(mlflow.get_last_active_trace_id(), "k", "v")
        mlflow.log_feedback(trace_id=mlflow.get_last_active_trace_id(), name="ok", value=True)
        return _search(mlflow, mlflow.get_experiment_by_name(exp_name).experiment_id)

    ours = frame(server.url)
    reference = ReferenceServer(tmp_path)
    try:
        theirs = frame(reference.url)
    finally:
        reference.stop()
        mlflow.set_tracking_uri(server.url)
    assert list(ours.columns) == list(theirs.columns)
    assert [str(t) for t in ours.dtypes] == [str(t) for t in theirs.dtypes]
    for column in ("state", "request", "response"):
        if column in ours:
            assert ours[column].tolist() == theirs[column].tolist()
    a, b = ours.iloc[0], theirs.iloc[0]
    where = ("mlflow.artifactLocation", "mlflow.trace.spansLocation")
    assert {k: v for k, v in a["tags"].items() if k not in where} == {k: v for k, v in b["tags"].items() if k not in where}
    assert a["tags"]["k"] == b["tags"]["k"] == "v"
    assert [s["name"] for s in a["spans"]] == [s["name"] for s in b["spans"]]
    def names(items):
        return [x["assessment_name"] if isinstance(x, dict) else x.name for x in items]

    assert names(a["assessments"]) == names(b["assessments"]) == ["ok"]
    assert set(a["trace_metadata"]) == set(b["trace_metadata"])


@pytest.mark.mlflow3("uses 3.x trace entities (trace_id, trace_location)")
def test_a_trace_id_reused_in_another_experiment_moves_there(mlflow, exp_name):
    """Seeding `random` (which OpenTelemetry's ids come from) repeats trace ids across scripts:
    as on mlflow server, the trace ends up in the experiment of its latest run."""
    import random

    @mlflow.trace
    def step(x):
        return x + 1

    ids = []
    for suffix in ("a", "b"):
        exp_id = mlflow.set_experiment(f"{exp_name}-{suffix}").experiment_id
        random.seed(1234)
        step(1)
        _flush(mlflow)
        ids.append((exp_id, mlflow.get_last_active_trace_id()))
    (exp_a, id_a), (exp_b, id_b) = ids
    assert id_a == id_b, "the seeded ids repeat"
    trace = mlflow.get_trace(id_b)
    assert trace.info.trace_location.mlflow_experiment.experiment_id == exp_b
    assert [t.info.trace_id for t in mlflow.search_traces(experiment_ids=[exp_b], return_type="list")] == [id_b]
    assert mlflow.search_traces(experiment_ids=[exp_a], return_type="list") == []
