"""OTLP `/v1/traces` against a real `mlflow server`: spans written by the OpenTelemetry SDK the way
OpenInference, OpenLLMetry (Traceloop) and OTel GenAI instrumentations write them must read back
through the unchanged client exactly as MLflow's server stores them (GenAI convention translation),
and refused exports must get MLflow's statuses and `detail` messages."""
import gzip
import json
import urllib.error
import urllib.request
import uuid
import zlib

import pytest

from reference_server import ReferenceServer

pytestmark = pytest.mark.mlflow3("reads back spans stored in the tracking store, which only mlflow 3 clients fetch")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    srv = ReferenceServer(tmp_path_factory.mktemp("mlflow-reference"))
    try:
        yield srv
    finally:
        srv.stop()


def _post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _create_experiment(url):
    body = json.dumps({"name": f"otlp-{uuid.uuid4().hex[:10]}"}).encode()
    req = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/create", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["experiment_id"]


def _emit(url, exp_id, build, service="interop-agent", compression=None, run_id=None):
    """Runs `build(tracer)` under a fresh SDK provider exporting to `url`; returns the trace id."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    headers = {"x-mlflow-experiment-id": exp_id}
    if run_id:
        headers["x-mlflow-run-id"] = run_id
    provider = TracerProvider(resource=Resource.create({"service.name": service, "deployment.environment": "test"}))
    kwargs = {"compression": compression} if compression is not None else {}
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers=headers, **kwargs)))
    trace_id = build(provider.get_tracer("interop"))
    provider.shutdown()
    return f"tr-{trace_id:032x}"


def _openinference(tracer):
    with tracer.start_as_current_span("agent") as root:
        root.set_attribute("openinference.span.kind", "AGENT")
        root.set_attribute("input.value", json.dumps({"messages": [{"role": "user", "content": "hi there"}]}))
        root.set_attribute("output.value", "hello!")
        root.set_attribute("session.id", "s-1")
        root.set_attribute("user.id", "u-1")
        with tracer.start_as_current_span("llm") as llm:
            llm.set_attribute("openinference.span.kind", "LLM")
            llm.set_attribute("llm.token_count.prompt", 10)
            llm.set_attribute("llm.token_count.completion", 5)
            llm.set_attribute("llm.token_count.total", 15)
            llm.set_attribute("llm.token_count.prompt_details.cache_read", 3)
            llm.set_attribute("llm.model_name", "my-model")
            llm.set_attribute("llm.provider", "acme")
            llm.set_attribute("input.value", "q")
            llm.set_attribute("output.value", "a")
        with tracer.start_as_current_span("tool") as tool:
            tool.set_attribute("openinference.span.kind", "TOOL")
            tool.set_attribute("input.value", json.dumps({"city": "Paris"}))
        return root.get_span_context().trace_id


def _traceloop(tracer):
    with tracer.start_as_current_span("workflow") as root:
        root.set_attribute("traceloop.span.kind", "workflow")
        root.set_attribute("traceloop.entity.input", json.dumps({"inputs": {"q": "x"}}))
        root.set_attribute("traceloop.entity.output", json.dumps({"outputs": "y"}))
        root.set_attribute("mlflow.traceTag.team", "blue")
        with tracer.start_as_current_span("openai.chat") as llm:
            llm.set_attribute("gen_ai.system", "acme")
            llm.set_attribute("gen_ai.request.model", "my-model")
            llm.set_attribute("gen_ai.usage.prompt_tokens", 7)
            llm.set_attribute("gen_ai.usage.completion_tokens", 3)
            llm.set_attribute("gen_ai.prompt.0.role", "user")
            llm.set_attribute("gen_ai.prompt.0.content", "tell me")
            llm.set_attribute("gen_ai.completion.0.content", "sure")
        with tracer.start_as_current_span("task") as task:
            task.set_attribute("traceloop.span.kind", "task")
        return root.get_span_context().trace_id


def _genai(tracer):
    with tracer.start_as_current_span("invoke_agent helper") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.conversation.id", "conv-9")
        root.set_attribute("gen_ai.usage.input_tokens", 100)  # a rollup parent: its children are not counted again
        root.set_attribute("gen_ai.usage.output_tokens", 50)
        with tracer.start_as_current_span("chat my-model") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.usage.input_tokens", 20)
            llm.set_attribute("gen_ai.usage.output_tokens", 8)
            llm.set_attribute("gen_ai.usage.cache_creation.input_tokens", 2)
            llm.set_attribute("gen_ai.request.model", "my-model")
            llm.set_attribute("gen_ai.provider.name", "acme")
            llm.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hey"}]}]))
            llm.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "yo"}]}]))
            llm.set_attribute("gen_ai.tool.definitions", json.dumps([{"name": "lookup"}]))
        with tracer.start_as_current_span("execute_tool lookup") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.call.arguments", json.dumps({"a": 1}))
            tool.set_attribute("gen_ai.tool.call.result", "ok")
        with tracer.start_as_current_span("spring chat") as spring:
            spring.set_attribute("gen_ai.operation.name", "chat")
            spring.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "P?"})
            spring.add_event("gen_ai.content.completion", {"gen_ai.completion": "C!"})
        with tracer.start_as_current_span("odd value") as odd:
            odd.set_attribute("lmnr.span.type", "EXECUTOR")
            odd.set_attribute("ratio", 2.0)
            odd.set_attribute("tags", ["a", "b"])
            odd.set_attribute("empty", "")
        return root.get_span_context().trace_id


# Cost needs LiteLLM's price table (not part of Runlens); the artifact location names the server.
_INFO_SKIP = {"mlflow.trace.cost", "mlflow.artifactLocation"}


def _view(mlflow, url, trace_id):
    trace = mlflow.MlflowClient(url).get_trace(trace_id)
    info = trace.info
    spans = sorted(trace.data.spans, key=lambda s: s.name)
    return {
        "state": str(info.state),
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "execution_duration": info.execution_duration,
        "tags": {k: v for k, v in info.tags.items() if k not in _INFO_SKIP},
        "metadata": {k: v for k, v in info.trace_metadata.items() if k not in _INFO_SKIP},
        "token_usage": info.token_usage,
        "spans": [
            {
                "name": s.name,
                "type": s.span_type,
                "parent": next((p.name for p in spans if p.span_id == s.parent_id), None),
                "inputs": s.inputs,
                "outputs": s.outputs,
                "status": s.status.status_code,
                "attributes": {k: v for k, v in s.attributes.items() if k not in ("mlflow.traceRequestId", "mlflow.llm.cost")},
                "events": [(e.name, e.attributes) for e in s.events],
            }
            for s in spans
        ],
    }


@pytest.mark.parametrize("build", [_openinference, _traceloop, _genai], ids=["openinference", "traceloop", "otel-genai"])
def test_genai_convention_spans_read_back_as_from_mlflow_server(mlflow, server, reference, build):
    ours_exp, theirs_exp = _create_experiment(server.url), _create_experiment(reference.url)
    ours = _view(mlflow, server.url, _emit(server.url, ours_exp, build))
    theirs = _view(mlflow, reference.url, _emit(reference.url, theirs_exp, build))
    # Durations are measured live: each side's own, in whole milliseconds.
    assert isinstance(ours.pop("execution_duration"), int) and isinstance(theirs.pop("execution_duration"), int)
    assert ours == theirs


def test_translated_spans_carry_mlflow_types_inputs_and_usage(mlflow, server):
    exp_id = _create_experiment(server.url)
    trace = mlflow.MlflowClient(server.url).get_trace(_emit(server.url, exp_id, _genai))
    spans = {s.name: s for s in trace.data.spans}
    assert spans["invoke_agent helper"].span_type == "AGENT"
    assert spans["chat my-model"].span_type == "CHAT_MODEL"
    assert spans["chat my-model"].inputs == [{"role": "user", "parts": [{"type": "text", "content": "hey"}]}]
    assert spans["chat my-model"].attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 20, "output_tokens": 8, "total_tokens": 28, "cache_creation_input_tokens": 2}
    assert spans["chat my-model"].attributes["mlflow.llm.model"] == "my-model"
    assert spans["execute_tool lookup"].span_type == "TOOL" and spans["execute_tool lookup"].inputs == {"a": 1}
    assert (spans["spring chat"].inputs, spans["spring chat"].outputs) == ("P?", "C!")
    assert spans["odd value"].span_type == "AGENT" and spans["odd value"].attributes["ratio"] == 2.0
    # The root reports rolled-up usage, so its children are not added on top. The SDK exported the
    # child first; as in MLflow, a key the final total lacks keeps the value it had (its cache count).
    assert trace.info.token_usage == {"input_tokens": 100, "output_tokens": 50, "total_tokens": 150, "cache_creation_input_tokens": 2}
    assert trace.info.trace_metadata["mlflow.trace.session"] == "conv-9"
    assert trace.info.tags["service.name"] == "interop-agent" and trace.info.tags["deployment.environment"] == "test"


def test_known_service_names_are_copied_onto_the_root_span(mlflow, server):
    exp_id = _create_experiment(server.url)
    trace = mlflow.MlflowClient(server.url).get_trace(_emit(server.url, exp_id, _openinference, service="claude-code"))
    root = next(s for s in trace.data.spans if s.parent_id is None)
    assert root.attributes["service.name"] == "claude-code"
    other = mlflow.MlflowClient(server.url).get_trace(_emit(server.url, exp_id, _openinference))
    assert "service.name" not in next(s for s in other.data.spans if s.parent_id is None).attributes


def test_compressed_exports_and_run_links(mlflow, server):
    from opentelemetry.exporter.otlp.proto.http import Compression

    exp_id = _create_experiment(server.url)
    for compression in (Compression.Gzip, Compression.Deflate):
        trace_id = _emit(server.url, exp_id, _traceloop, compression=compression)
        assert len(mlflow.MlflowClient(server.url).get_trace(trace_id).data.spans) == 3
    run = mlflow.MlflowClient(server.url).create_run(exp_id)
    trace_id = _emit(server.url, exp_id, _traceloop, run_id=run.info.run_id)
    linked = mlflow.MlflowClient(server.url).search_traces(locations=[exp_id], run_id=run.info.run_id)
    assert [t.info.trace_id for t in linked] == [trace_id]


def _span_export(**overrides):
    span = {"traceId": uuid.uuid4().hex, "spanId": "eee19b7ec3c1b174", "name": "n",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000"}
    span.update(overrides)
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{k: v for k, v in span.items() if v is not None}]}]}]}).encode()


def _raw_deflate(data):
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


def _error_cases(exp_id):
    j = {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id}
    p = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp_id}
    return {
        "no experiment header": (_span_export(), {"Content-Type": "application/json"}),
        "protobuf alias": (_span_export(), {**j, "Content-Type": "application/protobuf"}),
        "charset parameter": (_span_export(), {**j, "Content-Type": "application/json; charset=utf-8"}),
        "not json": (b"{not", j),
        "no resourceSpans": (b"{}", j),
        "resourceSpans without spans": (json.dumps({"resourceSpans": [{"scopeSpans": []}]}).encode(), j),
        "no span id": (_span_export(spanId=None), j),
        "no trace id": (_span_export(traceId=None), j),
        "all-zero ids": (_span_export(traceId="0" * 32, spanId="0" * 16), j),
        "odd hex id": (_span_export(spanId="abc"), j),
        "short id": (_span_export(spanId="abcd"), j),
        "base64 id": (_span_export(spanId="7uGbfsPBsXQ="), j),
        "no name, no start": (_span_export(name=None, startTimeUnixNano=None), j),
        "bad time": (_span_export(startTimeUnixNano="abc"), j),
        "gzip": (gzip.compress(_span_export()), {**j, "Content-Encoding": "gzip"}),
        "deflate": (zlib.compress(_span_export()), {**j, "Content-Encoding": "deflate"}),
        "raw deflate": (_raw_deflate(_span_export()), {**j, "Content-Encoding": "deflate"}),
        "GZIP upper case": (gzip.compress(_span_export()), {**j, "Content-Encoding": "GZIP"}),
        "bad gzip": (b"nope", {**j, "Content-Encoding": "gzip"}),
        "bad deflate": (b"nope", {**j, "Content-Encoding": "deflate"}),
        "brotli": (_span_export(), {**j, "Content-Encoding": "br"}),
        "identity": (_span_export(), {**j, "Content-Encoding": "identity"}),
        "unknown experiment": (_span_export(), {**j, "x-mlflow-experiment-id": "987654"}),
        "non-numeric experiment": (_span_export(), {**j, "x-mlflow-experiment-id": "abc"}),
        "bad protobuf": (b"\x0a\xff\xff\xff\xff\x0f garbage", p),
        "empty protobuf": (b"", p),
    }


def _answer(url, body, headers):
    status, text = _post(f"{url}/v1/traces", body, headers)
    if status == 200:
        return status, text
    err = json.loads(text)
    return status, err.get("detail", err.get("message"))


def test_otlp_statuses_and_messages_match_mlflow_server(server, reference):
    ours_exp, theirs_exp = _create_experiment(server.url), _create_experiment(reference.url)
    ours_cases, theirs_cases = _error_cases(ours_exp), _error_cases(theirs_exp)
    for name in ours_cases:
        assert _answer(server.url, *ours_cases[name]) == _answer(reference.url, *theirs_cases[name]), name


def test_otlp_refusals_also_carry_mlflow_error_fields(server):
    exp_id = _create_experiment(server.url)
    status, text = _post(f"{server.url}/v1/traces", b"{}", {"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id})
    err = json.loads(text)
    assert status == 400 and err["detail"] == "Invalid OpenTelemetry format - no spans found"
    assert err["error_code"] == "BAD_REQUEST" and err["message"]
    # A form-encodable Content-Type is refused before the route (cross-site protection), still 400.
    status, _ = _post(f"{server.url}/v1/traces", _span_export(), {"Content-Type": "text/plain", "x-mlflow-experiment-id": exp_id})
    assert status == 400
