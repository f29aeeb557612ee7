"""Expectations with structured values travel as MLflow's `serialized_value` (JSON_FORMAT) and read
back through the client as the value logged, exactly as from a real `mlflow server`."""
import json
import urllib.request

from test_otlp import reference  # noqa: F401  (module-scoped reference server)
import pytest

pytestmark = pytest.mark.mlflow3("3.x assessments API (log_expectation with structured values)")

VALUES = [{"a": [1, 2], "b": "x"}, [1, "two", None], "plain", 3.5, True]


def _log(mlflow, url, exp_name):
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(exp_name)

    @mlflow.trace
    def f(x):
        return x

    f(1)
    trace_id = mlflow.get_last_active_trace_id()
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()
    for v in VALUES:
        mlflow.log_expectation(trace_id=trace_id, name=f"e-{type(v).__name__}", value=v)
    with urllib.request.urlopen(f"{url}/api/3.0/mlflow/traces/{trace_id}", timeout=30) as r:
        wire = {a["assessment_name"]: a["expectation"] for a in json.load(r)["trace"]["trace_info"]["assessments"]}
    read = {a.name: a.value for a in mlflow.get_trace(trace_id).info.assessments}
    return wire, read


def test_structured_expectations_round_trip_as_serialized_value(mlflow, server, reference, exp_name):  # noqa: F811
    try:
        ours = _log(mlflow, server.url, exp_name)
        theirs = _log(mlflow, reference.url, exp_name)
    finally:
        mlflow.set_tracking_uri(server.url)
    assert ours == theirs
    wire, read = ours
    assert wire["e-dict"] == {"serialized_value": {"serialization_format": "JSON_FORMAT", "value": '{"a": [1, 2], "b": "x"}'}}
    assert read == {f"e-{type(v).__name__}": v for v in VALUES}
