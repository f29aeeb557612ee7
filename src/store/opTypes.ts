/**
 * The value shapes journaled ops share. A leaf: ops.ts dispatches to the per-concern op modules
 * (modelOps, traceOps, datasetOps), and those describe their ops with these, so none of them
 * needs to import ops.ts back.
 */
export type KV = [key: string, value: string];
/** [key, value, timestamp, step]; value is a number, or 'NaN' / 'Infinity' / '-Infinity'. */
export type JournalMetric = [key: string, value: number | string, timestamp: number, step: number];
