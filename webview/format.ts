/** Value and duration formatting for the views: the same rules as the explorer and run documents. */
import type { RunRow } from '../src/ui/protocol';

import { formatDuration } from '../src/ui/runFormat';

export { formatDuration, formatUsd, formatValue } from '../src/ui/runFormat';

/** A request's latency: milliseconds under a second, then the explorer's duration format. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : formatDuration(ms);
}

/** How long a run took (or has run so far), in ms; undefined without a start or an end. */
export function rowDurationMs(row: RunRow, now = Date.now()): number | undefined {
  if (!row.startTime) return undefined;
  const end = row.status === 'RUNNING' ? now : row.endTime;
  return end ? end - row.startTime : undefined;
}
