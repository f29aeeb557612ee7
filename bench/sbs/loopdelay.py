"""Runlens' event-loop delay during an ingest, read from the server's own opt-in recorder
(RUNLENS_LOOP_DELAY_FILE, src/server/loopDelay.ts): the server samples its loop with
perf_hooks.monitorEventLoopDelay and rewrites the file every second; SIGUSR2 starts a new window.
A server without the recorder writes no file; then the figure is reported as not measured."""
import json
import os
import signal
import time

from sbs.servers import Target


def loop_delay_during(workdir, work):
    """Runs work(target) on a dedicated Runlens server with the recorder on. Returns
    (stats or None, seconds the work took)."""
    path = workdir / "loop-delay.json"
    t = Target("runlens", workdir, name="runlens-loop-delay", env={"RUNLENS_LOOP_DELAY_FILE": str(path)}).start()
    try:
        time.sleep(1.5)  # long enough for a first write
        recording = path.exists()
        if recording:
            # A new window, so start-up is not part of it (SIGUSR2 would kill a server without the recorder).
            os.kill(t.proc.pid, signal.SIGUSR2)
            time.sleep(0.3)
        t.use()
        t0 = time.perf_counter()
        work(t)
        secs = time.perf_counter() - t0
        if not recording:
            return None, secs
        time.sleep(1.5)  # the next periodic write covers the whole ingest
        return json.loads(path.read_text()), secs
    finally:
        t.stop()
