/**
 * Opt-in event-loop delay recorder for benchmarks: with RUNLENS_LOOP_DELAY_FILE set, the server
 * samples its own event loop (perf_hooks.monitorEventLoopDelay, 1 ms resolution) and rewrites that
 * file every second and on stop, so a bench can check "no stall over 5 ms" from outside. SIGUSR2
 * starts a new window (the histogram is reset), so a bench can measure one phase after seeding.
 *
 * File format: one JSON object,
 *   {"max_ms":n,"p99_ms":n,"p50_ms":n,"mean_ms":n,"samples":n,"window_start":"<ISO time>","written":"<ISO time>"}
 * Delays are how late a 1 ms timer fired, in milliseconds (a stall of 7 ms reads as about 7).
 */
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const LOOP_DELAY_ENV = 'RUNLENS_LOOP_DELAY_FILE';

export interface LoopDelayRecorder {
  /** Writes the file a last time and stops sampling. */
  stop(): void;
}

/** Starts recording when the environment names a file; otherwise does nothing. */
export function startLoopDelayRecorder(env: NodeJS.ProcessEnv = process.env): LoopDelayRecorder | undefined {
  const file = env[LOOP_DELAY_ENV];
  if (!file) return undefined;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let windowStart = new Date();
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const write = (): void => {
    const body = {
      max_ms: ms(histogram.max),
      p99_ms: ms(histogram.percentile(99)),
      p50_ms: ms(histogram.percentile(50)),
      mean_ms: ms(Number.isNaN(histogram.mean) ? 0 : histogram.mean),
      samples: histogram.count,
      window_start: windowStart.toISOString(),
      written: new Date().toISOString(),
    };
    try {
      // Temp + rename: a reader never sees half a file. Not fsynced: a bench figure, not store data.
      fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(body)}\n`);
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // A bench helper must never take the server down.
    }
  };
  const reset = (): void => {
    write();
    histogram.reset();
    windowStart = new Date();
  };
  const timer = setInterval(write, 1000);
  timer.unref();
  process.on('SIGUSR2', reset);
  return {
    stop: () => {
      clearInterval(timer);
      process.off('SIGUSR2', reset);
      write();
      histogram.disable();
    },
  };
}
