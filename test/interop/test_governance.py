"""Governance with the unchanged client: GenOps-style scenarios against `runlens serve --governance`.

Every cost read back is checked against the pricing table: each REST call the client makes is one
charged operation (tracking $0.0001, registry $0.0005 by default), so the expected totals are exact.
"""
import json
import subprocess
import threading
import time
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import CLI, RunlensServer

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

TRACK = Decimal("0.0001")
REGISTRY = Decimal("0.0005")


def _serve(tmp_path, yaml_text, env=None, monkeypatch=None):
    cfg = tmp_path / "governance.yaml"
    cfg.write_text(yaml_text)
    if env and monkeypatch:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
    srv = RunlensServer(tmp_path / "store", ["--governance", str(cfg)])
    srv.log = tmp_path / "server.log"
    return srv.start()


@pytest.fixture()
def governed(tmp_path, monkeypatch):
    servers = []

    def start(yaml_text, env=None):
        root = tmp_path / f"s{len(servers)}"
        root.mkdir()
        srv = _serve(root, yaml_text, env, monkeypatch)
        servers.append(srv)
        # Refusals must reach the test at once, not after the client's back-off.
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        # Older clients resolve mlflow-artifacts: URIs against the global tracking URI; the
        # fluent API uses it too (set here, reset below, so no test inherits another's server).
        monkeypatch.setenv("MLFLOW_TRACKING_URI", srv.url)
        mlflow.set_tracking_uri(srv.url)
        return srv, MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)

    try:
        yield start
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        for s in servers:
            s.stop()


def _get(srv, path):
    with urllib.request.urlopen(srv.url + path) as r:
        return json.load(r)


def _summary(srv, group_by):
    return {row["key"]: Decimal(row["cost"].lstrip("$")) for row in _get(srv, f"/runlens/api/governance/summary?group_by={group_by}")["rows"]}


def _run_cost(client, run_id):
    return Decimal(client.get_run(run_id).data.tags["genops.cost.total_usd"])


def test_basic_tracking_is_costed_by_the_pricing_table(governed):
    srv, client = governed("defaults: {team: ml, project: churn}\n")
    run = client.create_run("0")
    for i in range(3):
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1), step=i)
    client.log_param(run.info.run_id, "lr", "0.1")
    client.set_terminated(run.info.run_id)
    # create + 3 metrics + param + end = 6 tracking calls.
    assert _run_cost(client, run.info.run_id) == 6 * TRACK
    assert _summary(srv, "team") == {"ml": 6 * TRACK}
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["genops.team"] == "ml" and tags["genops.project"] == "churn"
    body = _get(srv, f"/runlens/api/governance/run-cost?run_id={run.info.run_id}")
    assert Decimal(body["cost"].lstrip("$")) == 6 * TRACK and body["attribution"] == {"team": "ml", "project": "churn"}


def test_per_run_customer_override_and_multi_tenant_loop(governed):
    srv, client = governed("defaults: {team: ml}\n")
    calls = {}
    for customer, n in (("acme", 2), ("globex", 3), ("initech", 1)):
        for _ in range(n):
            run = client.create_run("0", tags={"genops.customer_id": customer})
            client.log_metric(run.info.run_id, "tokens", 100)
            client.set_terminated(run.info.run_id)
            calls[customer] = calls.get(customer, 0) + 3
    # A tag set later moves the run's spend to the new customer.
    late = client.create_run("0")
    client.set_tag(late.info.run_id, "genops.customer_id", "acme")
    calls["acme"] += 2
    assert _summary(srv, "customer_id") == {k: v * TRACK for k, v in calls.items()}


def test_parent_cost_includes_children_and_children_inherit(governed):
    srv, client = governed("defaults: {project: sweep}\n")
    parent = client.create_run("0", tags={"genops.team": "research"})
    kids = []
    for i in range(3):
        kid = client.create_run("0", tags={"mlflow.parentRunId": parent.info.run_id})
        client.log_metric(kid.info.run_id, "acc", 0.5 + i / 10)
        client.set_terminated(kid.info.run_id)
        kids.append(kid)
    client.set_terminated(parent.info.run_id)
    for kid in kids:
        tags = client.get_run(kid.info.run_id).data.tags
        assert tags["genops.team"] == "research" and tags["genops.project"] == "sweep"
        assert _run_cost(client, kid.info.run_id) == 3 * TRACK
    assert _run_cost(client, parent.info.run_id) == (2 + 3 * 3) * TRACK
    assert _summary(srv, "team") == {"research": 11 * TRACK}


def test_fluent_runs_with_nested_children(governed):
    srv, client = governed("defaults: {team: fluent}\n")
    # An explicit experiment: the fluent API would otherwise use whatever an earlier test set active.
    with mlflow.start_run(experiment_id="0") as parent:
        for i in range(2):
            with mlflow.start_run(experiment_id="0", nested=True):
                mlflow.log_metric("x", i)
    cost = _run_cost(client, parent.info.run_id)
    audit = _get(srv, f"/runlens/api/governance/audit?limit=1000")["entries"]
    charged = [e for e in audit if e["outcome"] == "ok"]
    # The parent's total is every charged call of the parent and its children.
    assert cost == len(charged) * TRACK and len(charged) >= 8


def test_model_registry_workflow_is_costed_as_registry_operations(governed):
    srv, client = governed("defaults: {team: models}\n")
    run = client.create_run("0")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("churn-model")
    mv = client.create_model_version("churn-model", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("churn-model", "champion", mv.version)
    client.set_model_version_tag("churn-model", mv.version, "validated", "yes")
    ops = _summary(srv, "operation")
    assert ops["createRegisteredModel"] == REGISTRY
    assert ops["createModelVersion"] == REGISTRY
    assert ops["setAlias"] == REGISTRY and ops["setModelVersionTag"] == REGISTRY
    assert _summary(srv, "team") == {"models": 2 * TRACK + 4 * REGISTRY}


def test_budget_warn_marks_the_run_and_lists_the_violation(governed):
    srv, client = governed(
        "budgets:\n  - name: ml-daily\n    scope: {team: ml}\n    daily_usd: 0.0003\n    mode: warn\n"
    )
    run = client.create_run("0", tags={"genops.team": "ml"})
    for i in range(5):
        client.log_metric(run.info.run_id, "m", i)
    tags = client.get_run(run.info.run_id).data.tags
    assert "ml-daily" in tags["genops.violation.budget"]
    violations = _get(srv, "/runlens/api/governance/violations")["violations"]
    assert [v["kind"] for v in violations] == ["budget"] and violations[0]["run_id"] == run.info.run_id
    assert violations[0]["refused"] is False
    budget = _get(srv, "/runlens/api/governance/budgets")["budgets"][0]
    assert budget["state"] == "exceeded" and Decimal(str(budget["spent_today_usd"])) == 6 * TRACK


def test_budget_enforce_refuses_with_a_message_naming_the_budget(governed):
    srv, client = governed(
        "budgets:\n  - name: ml-hard-cap\n    scope: {team: ml}\n    daily_usd: 0.0005\n    mode: enforce\n"
    )
    run = client.create_run("0", tags={"genops.team": "ml"})
    for i in range(4):
        client.log_metric(run.info.run_id, "m", i)
    with pytest.raises(MlflowException) as refused:
        client.log_metric(run.info.run_id, "m", 99)
    assert refused.value.error_code == "RESOURCE_EXHAUSTED"
    assert "ml-hard-cap" in refused.value.message and "$0.0005" in refused.value.message
    # New runs of the scope are refused too; other teams are not.
    with pytest.raises(MlflowException, match="ml-hard-cap"):
        client.create_run("0", tags={"genops.team": "ml"})
    other = client.create_run("0", tags={"genops.team": "other"})
    client.log_metric(other.info.run_id, "m", 1)
    # Ending the capped run still works (it would stay RUNNING otherwise) and is charged.
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"
    # The refused points were not stored.
    assert [m.value for m in client.get_metric_history(run.info.run_id, "m")] == [0, 1, 2, 3]
    refusals = _get(srv, "/runlens/api/governance/audit?outcome=refused")["entries"]
    assert len(refusals) == 2 and all("ml-hard-cap" in e["reason"] for e in refusals)


def test_required_tags_warn_marks_at_run_end(governed):
    srv, client = governed("policies:\n  require_tags: {tags: [owner, ticket], mode: warn}\n")
    ok = client.create_run("0", tags={"owner": "ana"})
    client.set_tag(ok.info.run_id, "ticket", "ML-1")  # tags may arrive after start_run
    client.set_terminated(ok.info.run_id)
    bad = client.create_run("0", tags={"owner": "bo"})
    client.set_terminated(bad.info.run_id)
    assert "genops.violation.require_tags" not in client.get_run(ok.info.run_id).data.tags
    assert "ticket" in client.get_run(bad.info.run_id).data.tags["genops.violation.require_tags"]
    violations = _get(srv, "/runlens/api/governance/violations")["violations"]
    assert [(v["kind"], v["run_id"]) for v in violations] == [("require_tags", bad.info.run_id)]


def test_required_tags_enforced_at_create(governed):
    srv, client = governed("policies:\n  require_tags: {tags: [owner], mode: enforce, at_create: true}\n")
    with pytest.raises(MlflowException) as refused:
        client.create_run("0")
    assert refused.value.error_code == "PERMISSION_DENIED" and "owner" in refused.value.message
    run = client.create_run("0", tags={"owner": "ana"})
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"


def test_allowed_environments_enforced(governed):
    srv, client = governed("policies:\n  allowed_environments: {values: [dev, staging], mode: enforce}\n")
    client.create_run("0", tags={"genops.environment": "dev"})
    with pytest.raises(MlflowException, match="allowed_environments"):
        client.create_run("0", tags={"genops.environment": "prod"})
    run = client.create_run("0")
    with pytest.raises(MlflowException, match="'prod' is not allowed"):
        client.set_tag(run.info.run_id, "genops.environment", "prod")


def test_artifact_size_policy_discards_oversized_uploads(governed, tmp_path):
    srv, client = governed("policies:\n  max_artifact_size_mb: {limit: 1, mode: enforce}\n")
    run = client.create_run("0")
    small = tmp_path / "small.txt"
    small.write_text("ok")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    client.log_artifact(run.info.run_id, str(small))
    # The artifact proxy's upload raises the HTTP error itself (not an MlflowException).
    with pytest.raises(Exception, match="max_artifact_size_mb"):
        client.log_artifact(run.info.run_id, str(big))
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["small.txt"]


def test_audit_trail_survives_restart_and_verify_detects_an_edit(governed, tmp_path):
    srv, client = governed("defaults: {team: audit}\n")
    run = client.create_run("0")
    client.log_metric(run.info.run_id, "m", 1)
    client.set_terminated(run.info.run_id)
    srv.stop()
    root = srv.root
    ok = subprocess.run(["node", str(CLI), "audit", "verify", "--root", str(root)], capture_output=True, text=True)
    assert ok.returncode == 0 and "intact: 3 entries" in ok.stdout, ok.stdout + ok.stderr
    # Restarted, the ledger is rebuilt from the trail: the run's cost is the same.
    srv.start()
    client = MlflowClient(tracking_uri=srv.url)
    assert _run_cost(client, run.info.run_id) == 3 * TRACK
    srv.stop()
    trail = root / ".governance" / "audit.jsonl"
    lines = trail.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["cost_nano"] = 0
    lines[1] = json.dumps(entry)
    trail.write_text("\n".join(lines) + "\n")
    bad = subprocess.run(["node", str(CLI), "audit", "verify", "--root", str(root)], capture_output=True, text=True)
    assert bad.returncode == 1 and "line 2" in bad.stdout and "edited" in bad.stdout, bad.stdout
    srv.start()  # the fixture stops it; the server still opens the trail and says it is broken
    MlflowClient(tracking_uri=srv.url).search_experiments()
    assert "content does not match its hash" in srv.log.read_text()


def test_governance_check_reports_the_wrong_line(tmp_path):
    cfg = tmp_path / "governance.yaml"
    cfg.write_text("budgets:\n  - scope: {team: ml}\n    daily_usd: 5\n    mode: block\n")
    out = subprocess.run(["node", str(CLI), "governance", "check", "--governance", str(cfg), "--root", str(tmp_path / "store")], capture_output=True, text=True)
    assert out.returncode == 1
    assert f"{cfg}:4:11: budgets[0].mode must be warn or enforce" in out.stdout, out.stdout
    cfg.write_text("budgets:\n  - scope: {team: ml}\n    daily_usd: 5\n    mode: enforce\n")
    good = subprocess.run(["node", str(CLI), "governance", "check", "--governance", str(cfg), "--root", str(tmp_path / "store")], capture_output=True, text=True)
    assert good.returncode == 0 and "governance check: ok" in good.stdout, good.stdout


class _Receiver(BaseHTTPRequestHandler):
    bodies = []

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            import gzip

            body = gzip.decompress(body)
        return body

    def do_POST(self):
        body = self._body()
        type(self).bodies.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def otlp_endpoint():
    """A local OTLP/HTTP receiver: what it is sent collects in _Receiver.bodies."""
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.bodies = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{receiver.server_address[1]}"
    finally:
        receiver.shutdown()


def test_operations_exported_over_otlp_with_attribution(governed, otlp_endpoint):
    pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    srv, client = governed("defaults: {team: otel, customer_id: acme}\notel: {enabled: true}\n", env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint})
    run = client.create_run("0")
    client.log_metric(run.info.run_id, "m", 1)
    deadline = time.time() + 20
    spans = []
    while time.time() < deadline and len(spans) < 2:
        time.sleep(0.5)
        spans = [sp for _res, _scope, sp in _exported_spans()]
    assert all(ctype == "application/x-protobuf" for path, ctype, _body in _Receiver.bodies if path == "/v1/traces")
    names = [s.name for s in spans]
    assert "runlens.createRun" in names and "runlens.logMetric" in names, names
    span = next(s for s in spans if s.name == "runlens.logMetric")
    attrs = {a.key: a.value for a in span.attributes}
    assert attrs["genops.team"].string_value == "otel" and attrs["genops.customer_id"].string_value == "acme"
    assert attrs["runlens.run_id"].string_value == run.info.run_id
    assert abs(attrs["genops.cost.usd"].double_value - 0.0001) < 1e-12


def _exported_spans():
    trace_pb2 = __import__("opentelemetry.proto.collector.trace.v1.trace_service_pb2", fromlist=["x"])
    out = []
    for path, _ctype, body in list(_Receiver.bodies):
        if path != "/v1/traces":
            continue
        req = trace_pb2.ExportTraceServiceRequest()
        req.ParseFromString(body)
        for rs in req.resource_spans:
            resource = {a.key: a.value.string_value for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                out.extend((resource, ss.scope.name, sp) for sp in ss.spans)
    return out


@pytest.mark.mlflow3("MLflow 3 tracing")
def test_ingested_traces_exported_over_otlp_with_attribution(governed, monkeypatch, otlp_endpoint):
    pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    srv, client = governed("defaults: {team: genai, project: bot}\notel: {enabled: true, export_traces: true}\n", env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint})
    # The endpoint is the server's: with it set, the client itself would send its spans there.
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    exp = client.create_experiment("otel-traces")
    mlflow.set_experiment(experiment_id=exp)

    @mlflow.trace(name="tool", span_type="TOOL")
    def tool(q):
        return q.upper()

    @mlflow.trace(name="agent", span_type="AGENT")
    def agent(q):
        return tool(q) + "!"

    with mlflow.start_run() as run:
        agent("hi")
    mlflow.flush_trace_async_logging() if hasattr(mlflow, "flush_trace_async_logging") else None
    deadline = time.time() + 30
    traces = []
    while time.time() < deadline and not traces:
        traces = client.search_traces(experiment_ids=[exp])
        time.sleep(0.3)
    assert traces, "the trace was not stored"
    info = traces[0].info
    trace_id = getattr(info, "trace_id", None) or info.request_id
    hex_id = trace_id[3:] if trace_id.startswith("tr-") else trace_id
    mine = []
    while time.time() < deadline and len(mine) < 2:
        time.sleep(0.5)
        mine = [(res, scope, sp) for res, scope, sp in _exported_spans() if sp.trace_id.hex() == hex_id and scope == "runlens.traces"]
    by_name = {sp.name: (res, sp) for res, _scope, sp in mine}
    assert set(by_name) == {"agent", "tool"}, [sp.name for _r, _s, sp in mine]
    _res, agent_span = by_name["agent"]
    res, tool_span = by_name["tool"]
    # The client's own ids and tree, its times and status.
    assert tool_span.parent_span_id == agent_span.span_id and not agent_span.parent_span_id
    assert agent_span.end_time_unix_nano >= tool_span.end_time_unix_nano > tool_span.start_time_unix_nano >= agent_span.start_time_unix_nano
    assert agent_span.status.code == 1
    stored = {s.name: s for s in client.get_trace(trace_id).data.spans}
    assert tool_span.span_id.hex() == stored["tool"].span_id.removeprefix("0x")
    attrs = {a.key: a.value.string_value for a in tool_span.attributes}
    assert attrs["mlflow.spanType"] == '"TOOL"'
    # The governance context: the store's ids and the run's attribution.
    assert attrs["runlens.trace_id"] == trace_id and attrs["runlens.experiment_id"] == exp
    assert attrs["runlens.run_id"] == run.info.run_id
    assert attrs["genops.team"] == "genai" and attrs["genops.project"] == "bot"
    assert res.get("service.name")
    # Exported once: a second look after the batch interval finds no copies.
    time.sleep(2)
    again = [sp for _res, scope, sp in _exported_spans() if sp.trace_id.hex() == hex_id and scope == "runlens.traces"]
    assert sorted(sp.name for sp in again) == ["agent", "tool"]


def test_plain_opentelemetry_spans_exported_after_a_quiet_spell(governed, monkeypatch, otlp_endpoint):
    """An OpenTelemetry SDK (no MLflow client) sends spans and never starts the trace: they go on
    after a short quiet spell, with the sender's resource and the run its header names."""
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    srv, client = governed("defaults: {team: platform}\notel: {enabled: true, export_traces: true}\n", env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint})
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    exp = client.create_experiment("plain-otel")
    run = client.create_run(exp)
    provider = TracerProvider(resource=Resource.create({"service.name": "plain-agent"}))
    headers = {"x-mlflow-experiment-id": exp, "x-mlflow-run-id": run.info.run_id}
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{srv.url}/v1/traces", headers=headers)))
    tracer = provider.get_tracer("plain")
    with tracer.start_as_current_span("root") as root:
        root.set_attribute("app.step", 1)
        with tracer.start_as_current_span("child"):
            pass
    hex_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    deadline = time.time() + 30
    mine = []
    while time.time() < deadline and len(mine) < 2:
        time.sleep(0.5)
        mine = [(res, sp) for res, scope, sp in _exported_spans() if sp.trace_id.hex() == hex_id and scope == "runlens.traces"]
    assert sorted(sp.name for _res, sp in mine) == ["child", "root"]
    res, root_span = next((r, sp) for r, sp in mine if sp.name == "root")
    assert res["service.name"] == "plain-agent"
    attrs = {a.key: a.value for a in root_span.attributes}
    assert attrs["runlens.trace_id"].string_value == f"tr-{hex_id}"
    assert attrs["runlens.run_id"].string_value == run.info.run_id
    assert attrs["genops.team"].string_value == "platform"


@pytest.mark.mlflow3("MLflow 3 tracing")
def test_llm_tokens_in_traces_are_costed_once(governed):
    srv, client = governed("defaults: {team: genai}\npricing:\n  llm: {test-model: {input_per_million: 1000, output_per_million: 2000}}\n")
    exp = client.create_experiment("llm-costs")
    mlflow.set_experiment(experiment_id=exp)

    @mlflow.trace(span_type="LLM")
    def chat(question):
        span = mlflow.get_current_active_span()
        span.set_attribute("gen_ai.request.model", "test-model")
        span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 100, "output_tokens": 50, "total_tokens": 150})
        return "answer"

    chat("q")
    mlflow.flush_trace_async_logging() if hasattr(mlflow, "flush_trace_async_logging") else None
    deadline = time.time() + 20
    llm = Decimal(0)
    while time.time() < deadline:
        entries = _get(srv, "/runlens/api/governance/audit?limit=1000")["entries"]
        trace_ops = [e for e in entries if e["op"].startswith("traces.") and e["outcome"] == "ok"]
        llm = sum((Decimal(str(e["cost_usd"])) - TRACK for e in trace_ops), Decimal(0))
        if llm > 0 and client.search_traces(experiment_ids=[exp]):
            break
        time.sleep(0.5)
    # 100 input tokens at $1000/M + 50 output tokens at $2000/M = $0.2, charged once.
    assert llm.quantize(Decimal("0.000000001")) == Decimal("0.2"), trace_ops
