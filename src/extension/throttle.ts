/**
 * Refresh throttling for views fed by the change feed. The first change after a quiet spell runs
 * at once (a new run shows up immediately); a burst (a training loop logging every step) runs at
 * most once per interval, with a trailing call so the last change is never lost. A plain debounce
 * would starve while a run logs continuously.
 */
export class KeyedThrottle {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly lastRun = new Map<string, number>();

  schedule(key: string, intervalMs: number, fn: () => void): void {
    if (this.pending.has(key)) return;
    const since = Date.now() - (this.lastRun.get(key) ?? 0);
    this.pending.set(
      key,
      setTimeout(
        () => {
          this.pending.delete(key);
          this.lastRun.set(key, Date.now());
          fn();
        },
        since >= intervalMs ? 0 : intervalMs - since,
      ),
    );
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
