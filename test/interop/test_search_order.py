"""runs/search order against a real `mlflow server` (SQLite store): the same ~300 runs seeded into
both through the REST API (ties, NaN/±inf metrics, missing params/tags/metrics, unterminated and
deleted runs), then every order_by shape, with and without a filter, paged to the end on both.
Each run carries its seed index as a tag, so the orders compare although run ids differ; start
times are unique so the run_id tie-break (which differs by id) never decides (the unit test
test/unit/runOrder.test.ts covers it)."""
import json
import math
import random
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from reference_server import ReferenceServer

A = "/api/2.0/mlflow"
RUNS = 300

ORDERS = [
    None,
    ["attributes.run_name ASC"],
    ["attributes.run_name DESC", "metrics.loss ASC"],
    ["attributes.status ASC"],
    ["attributes.status DESC", "metrics.acc ASC"],
    ["attributes.start_time ASC"],
    ["attributes.end_time DESC"],
    ["attributes.end_time ASC", "params.model DESC"],
    ["attributes.user_id ASC", "metrics.loss DESC"],
    ["params.model ASC"],
    ["params.model ASC", "metrics.loss DESC"],
    ["params.model DESC", "tags.team ASC", "metrics.acc DESC"],
    ["params.lr DESC"],
    ["tags.team ASC", "attributes.start_time DESC"],
    ["tags.team DESC", "attributes.end_time ASC"],
    ["metrics.loss DESC"],
    ["metrics.acc ASC"],
    ["metrics.acc DESC", "params.model ASC"],
]
FILTERS = [None, "metrics.acc > 0.3", "params.model = 'cnn'", "attributes.status = 'FINISHED'"]


def call(url, route, body):
    req = urllib.request.Request(url + A + route, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read() or b"{}")


def wire(v):
    """A metric value as MLflow's JSON carries it: NaN and infinities as strings."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def run_specs():
    rnd = random.Random(20)
    specs = []
    for i in range(RUNS):
        start = 1_700_000_000_000 + i * 7  # unique
        status = rnd.choice(["FINISHED", "FINISHED", "FAILED", "KILLED", "RUNNING"])
        metrics = []
        a = rnd.random()
        if a < 0.6:
            metrics.append(("acc", round(rnd.random(), 1)))
        elif a < 0.8:
            metrics.append(("acc", rnd.choice([math.nan, math.inf, -math.inf, 1.7976931348623157e308, 0.0])))
        if rnd.random() < 0.7:
            metrics.append(("loss", float(rnd.randint(0, 5))))
        params = [("lr", f"{rnd.random():.2f}")] if rnd.random() < 0.7 else []
        if rnd.random() < 0.85:
            params.append(("model", rnd.choice(["cnn", "mlp", "rnn", "MLP", ""])))
        tags = [("i", str(i))]
        if rnd.random() < 0.6:
            tags.append(("team", rnd.choice(["a", "b", "c"])))
        specs.append({
            "name": f"r{rnd.randint(0, 30)}", "user": rnd.choice(["ann", "bob"]), "start": start, "status": status,
            "end": None if status == "RUNNING" or rnd.random() < 0.2 else start + rnd.randint(0, 20),
            "metrics": metrics, "params": params, "tags": tags, "deleted": rnd.random() < 0.08,
        })
    return specs


def seed(url, specs):
    exp = call(url, "/experiments/create", {"name": "search-order"})["experiment_id"]

    def one(s):
        run_id = call(url, "/runs/create", {"experiment_id": exp, "run_name": s["name"], "user_id": s["user"], "start_time": s["start"]})["run"]["info"]["run_id"]
        call(url, "/runs/log-batch", {
            "run_id": run_id,
            "metrics": [{"key": k, "value": wire(v), "timestamp": s["start"], "step": 0} for k, v in s["metrics"]],
            "params": [{"key": k, "value": v} for k, v in s["params"]],
            "tags": [{"key": k, "value": v} for k, v in s["tags"]],
        })
        update = {"run_id": run_id, "status": s["status"]}
        if s["end"] is not None:
            update["end_time"] = s["end"]
        call(url, "/runs/update", update)
        if s["deleted"]:
            call(url, "/runs/delete", {"run_id": run_id})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, specs))
    return exp


def order(url, exp, filter_, order_by, view="ACTIVE_ONLY"):
    """Seed indices of every matching run, in the server's order, over all pages."""
    out, token = [], None
    while True:
        body = {"experiment_ids": [exp], "max_results": 37, "run_view_type": view}
        if filter_:
            body["filter"] = filter_
        if order_by:
            body["order_by"] = order_by
        if token:
            body["page_token"] = token
        page = call(url, "/runs/search", body)
        out += [next(t["value"] for t in r["data"]["tags"] if t["key"] == "i") for r in page.get("runs", [])]
        token = page.get("next_page_token")
        if not token:
            return out


@pytest.fixture(scope="module")
def seeded(server, tmp_path_factory):
    reference = ReferenceServer(tmp_path_factory.mktemp("reference"))
    try:
        specs = run_specs()
        yield (server.url, seed(server.url, specs)), (reference.url, seed(reference.url, specs))
    finally:
        reference.stop()


@pytest.mark.parametrize("order_by", ORDERS, ids=lambda o: ", ".join(o) if o else "default")
def test_order_matches_mlflow_server(seeded, order_by):
    (ours, our_exp), (ref, ref_exp) = seeded
    for filter_ in FILTERS:
        for view in ["ACTIVE_ONLY", "ALL"]:
            expected = order(ref, ref_exp, filter_, order_by, view)
            assert len(expected) > 10
            assert order(ours, our_exp, filter_, order_by, view) == expected, f"filter {filter_}, {view}"
