/**
 * When to restart a tracking server that crashed: soon, then with growing pauses, and not at all
 * once it keeps dying right after it starts (a store it cannot load, a broken install), so a
 * crash loop does not burn the machine and the user gets one clear message instead.
 */
export interface RestartPolicyOptions {
  /** Pauses before the 1st, 2nd, … restart in a streak of fast crashes. */
  delaysMs: readonly number[];
  /** A server that ran at least this long before crashing starts a new streak. */
  healthyAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = { delaysMs: [500, 2000, 8000], healthyAfterMs: 30_000 };

export type RestartDecision = { restart: true; delayMs: number; attempt: number } | { restart: false; crashes: number };

export class RestartPolicy {
  private streak = 0;

  constructor(private readonly opts: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** Decides after a crash of a server that had been up for `uptimeMs`. */
  onCrash(uptimeMs: number): RestartDecision {
    if (uptimeMs >= this.opts.healthyAfterMs) this.streak = 0;
    this.streak++;
    const delay = this.opts.delaysMs[this.streak - 1];
    if (delay === undefined) return { restart: false, crashes: this.streak };
    return { restart: true, delayMs: delay, attempt: this.streak };
  }

  /** A start the user asked for (Restart, Start, Recover) gets a fresh streak. */
  reset(): void {
    this.streak = 0;
  }
}
