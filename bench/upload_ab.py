"""A/B of 50 MB uploads with the real mlflow client: two Runlens builds (CLI paths), plus an optional
running server URL (e.g. mlflow server with --artifacts-destination), uploads alternated, 7 each.
Usage: .venv/latest/bin/python bench/upload_ab.py <cliA.js> <cliB.js> [URL]"""
import sys, time, os, subprocess, re, tempfile, statistics
import mlflow
from mlflow import MlflowClient
clis = sys.argv[1:3]; extra = sys.argv[3:]
procs=[]; urls=[]
for c in clis:
    root = tempfile.mkdtemp(prefix='up-')
    p = subprocess.Popen(['node', c, 'serve', '--port', '0', '--root', root], stdout=subprocess.PIPE, text=True)
    while True:
        line = p.stdout.readline()
        m = re.search(r'listening on (http://\S+)', line)
        if m: urls.append(m.group(1)); break
    procs.append(p)
if extra:
    urls.append(extra[0])
big = os.path.join(tempfile.gettempdir(), 'runlens-ab-big50.bin')
if not os.path.exists(big):
    with open(big, 'wb') as f: f.write(os.urandom(50 * 1024 * 1024))
times = {u: [] for u in urls}
runs = {}
for u in urls:
    cl = MlflowClient(tracking_uri=u)
    exp = cl.create_experiment(f'up-{time.time()}')
    runs[u] = (cl, cl.create_run(exp).info.run_id)
for i in range(7):
    order = urls if i % 2 == 0 else list(reversed(urls))
    for u in order:
        cl, rid = runs[u]
        t = time.perf_counter(); cl.log_artifact(rid, big, artifact_path=f'b{i}'); times[u].append((time.perf_counter() - t) * 1000)
for u in urls:
    print(u, 'median ms', round(statistics.median(times[u]), 1), 'min', round(min(times[u]), 1))
for p in procs: p.terminate()
