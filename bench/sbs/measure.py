"""Running one workload against every server, in rotated order, and recording what a peer refused."""
import time

SLOW_SAMPLE_S = 30  # after one sample this slow, a target is not asked again for that workload

TIMED_OUT = []  # (kind, workload) for the report
FAILED = {}  # (kind, workload) -> why a peer gave no figure (an error it answered, a missing route)
CAVEATS = {}  # (kind, workload) -> why a figure is not like for like


def _cpu_jiffies():
    """(busy, total) jiffies of the whole machine so far, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


QUIET_BUSY_BELOW, QUIET_WINDOW_S, QUIET_WINDOWS = 0.25, 0.5, 2
QUIET_RULE = f"CPUs under {QUIET_BUSY_BELOW:.0%} busy for {QUIET_WINDOW_S * QUIET_WINDOWS:g} s"


def settle(max_s=120, window_s=QUIET_WINDOW_S, busy_below=QUIET_BUSY_BELOW, quiet_windows=QUIET_WINDOWS):
    """Waits until the machine's CPUs are quiet: busy under `busy_below` of their capacity for
    `quiet_windows` windows in a row. A server answers /health long before it is idle (`mlflow
    server`'s 4 workers keep both cores of this machine busy for ~7 s after it), and seeding
    leaves work behind (a checkpoint, SQLite's own flushes): figures taken meanwhile measure that
    contention, not the server asked. Returns the seconds waited and whether it did go quiet."""
    t0 = time.perf_counter()
    prev = _cpu_jiffies()
    if prev is None:
        return 0.0, True
    quiet = 0
    while time.perf_counter() - t0 < max_s:
        time.sleep(window_s)
        cur = _cpu_jiffies()
        busy, total = cur[0] - prev[0], cur[1] - prev[1]
        prev = cur
        quiet = quiet + 1 if total > 0 and busy / total < busy_below else 0
        if quiet >= quiet_windows:
            return time.perf_counter() - t0, True
    return time.perf_counter() - t0, False


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def rotated(targets, rep):
    """Repetition r starts with target r mod n, so each server goes first, middle and last once in 3."""
    k = rep % len(targets)
    return targets[k:] + targets[:k]


def is_timeout(err):
    return "timed out" in str(err).lower() or "timeout" in type(err).__name__.lower()


def short(err):
    text = str(err).replace("\n", " ")
    return f"{type(err).__name__}: {text[:200]}"


def alternate(targets, reps, fn, what, unit_ms=False, timeout_s=120):
    """Runs fn(target, rep) for each target, rotating the order per repetition. A request that
    times out is recorded as the timeout (a lower bound) and that target is not asked again for
    this workload. A peer that answers with
    an error is recorded as failing this workload (FAILED) and not asked again; Runlens failing
    raises, since a Runlens figure must never be missing."""
    samples = {t.kind: [] for t in targets}
    gave_up = set()
    for rep in range(reps):
        for t in rotated(targets, rep):
            if t.kind in gave_up:
                continue
            t.use()
            try:
                sample = fn(t, rep)
                samples[t.kind].append(sample)
                if unit_ms and sample > SLOW_SAMPLE_S * 1000:
                    gave_up.add(t.kind)
            except Exception as err:  # noqa: BLE001 - a timeout surfaces as MlflowException or requests' errors
                if unit_ms and is_timeout(err):
                    samples[t.kind].append(timeout_s * 1000)
                    TIMED_OUT.append((t.kind, what))
                    gave_up.add(t.kind)
                    # Not restarted: an mlflow server start takes minutes on a loaded machine. It may
                    # still be working on the abandoned query while the next workload runs.
                elif t.kind != "runlens":
                    FAILED[(t.kind, what)] = short(err)
                    gave_up.add(t.kind)
                else:
                    raise
    return samples
