"""One of the concurrent writers: its own OS process and its own mlflow client, as a training
script would be. It creates one run on each server, prints "ready", then for every line
"go <index> <seconds>" on stdin logs single metrics to that server for that long and prints its
latencies as one JSON line. Started once for all servers and repetitions: importing mlflow takes
seconds of CPU, a minute on a loaded machine.

Usage: python writer_proc.py <tracking-url>=<experiment-id> ...
"""
import json
import os
import sys
import time

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402


def main():
    servers = []
    for arg in sys.argv[1:]:
        url, exp_id = arg.rsplit("=", 1)
        client = mlflow.MlflowClient(url)
        servers.append({"client": client, "run_id": client.create_run(exp_id).info.run_id, "step": 0})
    print("ready", flush=True)
    for line in sys.stdin:
        _, index, seconds = line.split()
        s = servers[int(index)]
        client, rid = s["client"], s["run_id"]
        lat, errors = [], 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < float(seconds):
            start = time.perf_counter()
            try:
                client.log_metric(rid, "loss", 1.0 / (s["step"] + 1), step=s["step"])
                lat.append((time.perf_counter() - start) * 1000)
            except Exception:  # noqa: BLE001 - counted and reported: a refused write is a result
                errors += 1
            s["step"] += 1
        elapsed = time.perf_counter() - t0
        print(json.dumps({"run_id": rid, "latencies_ms": lat, "errors": errors, "elapsed_s": elapsed}), flush=True)


if __name__ == "__main__":
    main()
