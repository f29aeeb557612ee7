"""OTLP/protobuf payloads for the traces section: many small traces and one big one."""
import json
import random
import time
import urllib.request

SEARCH_TIMEOUT_S = 120

BIG_TRACE_ID = "tr-" + "cd" * 16


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=SEARCH_TIMEOUT_S) as r:
        return json.loads(r.read())


def post_otlp(base, exp_id, body):
    req = urllib.request.Request(f"{base}/v1/traces", data=body, method="POST",
                                 headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp_id})
    with urllib.request.urlopen(req, timeout=300) as r:
        assert r.status == 200


def _otlp_span(trace_id, span_id, parent, name, kind, start, end):
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    s = Span(trace_id=trace_id, span_id=span_id, name=name, start_time_unix_nano=start, end_time_unix_nano=end,
             status=Status(code=Status.STATUS_CODE_OK))
    if parent:
        s.parent_span_id = parent
    s.attributes.append(KeyValue(key="mlflow.spanType", value=AnyValue(string_value=json.dumps(kind))))
    s.attributes.append(KeyValue(key="mlflow.spanInputs", value=AnyValue(string_value=json.dumps({"q": name}))))
    return s


def _request(spans):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.extend(spans)
    return req.SerializeToString()


def otlp_batches(n_traces, per_request):
    """n traces of 3 spans (agent → llm, tool); every 10th tool is 'rare_tool'; varied latencies."""
    now = time.time_ns() - 3600 * 10**9
    for first in range(0, n_traces, per_request):
        spans = []
        for i in range(first, min(n_traces, first + per_request)):
            tid = random.getrandbits(128).to_bytes(16, "big")
            root = random.getrandbits(64).to_bytes(8, "big")
            start = now + i * 1_000_000
            dur = (1 + (i * 7919) % 997) * 100_000
            spans.append(_otlp_span(tid, root, None, "agent", "AGENT", start, start + dur))
            spans.append(_otlp_span(tid, random.getrandbits(64).to_bytes(8, "big"), root, "llm", "LLM", start + 10, start + dur // 2))
            tool = "rare_tool" if i % 10 == 0 else "tool"
            spans.append(_otlp_span(tid, random.getrandbits(64).to_bytes(8, "big"), root, tool, "TOOL", start + dur // 2, start + dur - 10))
        yield _request(spans)


def otlp_big_trace(n_spans):
    tid = bytes.fromhex(BIG_TRACE_ID[3:])
    start = time.time_ns() - 60 * 10**9
    ids = [(i + 1).to_bytes(8, "big") for i in range(n_spans)]
    spans = [_otlp_span(tid, ids[0], None, "pipeline", "CHAIN", start, start + n_spans * 200_000 + 1000)]
    for i in range(1, n_spans):
        parent = ids[0] if i < 50 else ids[1 + (i % 49)]
        s = start + i * 200_000
        spans.append(_otlp_span(tid, ids[i], parent, f"step-{i}", "TOOL", s, s + 150_000))
    return _request(spans)
