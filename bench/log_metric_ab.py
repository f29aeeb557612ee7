#!/usr/bin/env python3
# Single log_metric round trips with the real mlflow client against Runlens and FastTrackML 0.6.0,
# alternated call by call (so a change in the machine's load lands on both); prints p50/p90/p99/mean.
# Usage: .venv/latest/bin/python bench/log_metric_ab.py dist/cli.js [calls=1500]
import os, sys, time, subprocess, tempfile, re, statistics, socket
import mlflow
from mlflow.tracking import MlflowClient
def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p
def start_runlens(cli):
    root = tempfile.mkdtemp()
    p = subprocess.Popen(['node', cli, 'serve', '--port', '0', '--root', root], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        m = re.search(r'listening on (http://\S+)', line)
        if m: return p, m.group(1)
def start_fml():
    root = tempfile.mkdtemp(); port = free_port()
    p = subprocess.Popen([os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.venv', 'fasttrackml', 'bin', 'fml'), 'server', '--listen-address', f'127.0.0.1:{port}', '--database-uri', f'sqlite://{root}/f.db', '--default-artifact-root', f'{root}/art'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request
    for _ in range(100):
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}/health'); break
        except Exception: time.sleep(0.1)
    return p, f'http://127.0.0.1:{port}'
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
servers = [start_runlens(sys.argv[1]), start_fml()]
clients = [MlflowClient(tracking_uri=u) for _, u in servers]
runs = []
for c in clients:
    e = c.create_experiment(f'ab-{time.time()}')
    runs.append(c.create_run(e).info.run_id)
t = [[], []]
for i in range(N):
    for j in ([0, 1] if i % 2 else [1, 0]):
        s = time.perf_counter(); clients[j].log_metric(runs[j], 'loss', i * 0.1, timestamp=int(time.time() * 1000), step=i); t[j].append(time.perf_counter() - s)
for j, name in enumerate(['runlens', 'fml']):
    xs = sorted(t[j]); print(name, 'p50 %.3f p90 %.3f p99 %.3f mean %.3f ms' % (xs[len(xs)//2]*1e3, xs[int(len(xs)*.9)]*1e3, xs[int(len(xs)*.99)]*1e3, statistics.mean(xs)*1e3))
for p, _ in servers: p.terminate()
