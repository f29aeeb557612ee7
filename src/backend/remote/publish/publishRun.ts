/**
 * One local run onto the remote: created once (tagged with its origin), then params, tags, the
 * full metric history in `log-batch`-sized calls, dataset inputs, artifacts through the proxy,
 * status — and last a digest tag of everything sent, which marks the run complete.
 *
 * A second publish compares digests and leaves an unchanged run alone. A run without the digest
 * (a publish that was interrupted) or with another one is sent again: MLflow's stores keep one
 * row per identical metric point (the SQL store drops duplicates of its primary key), tags are
 * overwritten, params must be equal (a differing param value is a conflict MLflow refuses), and
 * only artifacts missing remotely or of another size are uploaded.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MlflowSource, SourceRun } from '../../api/source';
import type { Metric, Tag } from '../../../domain/types';
import { TAG_PARENT_RUN_ID } from '../../../domain/types';
import { RestError } from '../restClient';
import { LOG_BATCH_LIMITS, type RemoteRunRef, type RemoteWriter } from './remoteWriter';
import { ORIGIN_RUN, ORIGIN_STORE, PUBLISH_DIGEST, type PublishTally } from './publishTypes';

/** Tags the remote writes itself or that name local things; never copied. */
const LOCAL_ONLY_TAGS = new Set([TAG_PARENT_RUN_ID, PUBLISH_DIGEST, ORIGIN_RUN, ORIGIN_STORE]);

export interface RunContext {
  writer: RemoteWriter;
  source: MlflowSource;
  storeId: string;
  tally: PublishTally;
  /** Local run id → remote run id, for parents published earlier. */
  remoteIds: Map<string, string>;
  onBytes(n: number): void;
  conflict(why: string): void;
}

/** Files under a local directory with their sizes, relative with `/`, sorted. */
export function localFiles(dir: string | undefined): [string, number][] {
  if (!dir || !fs.existsSync(dir)) return [];
  const out: [string, number][] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push([child, fs.statSync(path.join(dir, child)).size]);
    }
  };
  walk('');
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The full history, read once to digest it (local reads are cheap; the remote calls are not). */
async function historyDigest(source: MlflowSource, runId: string, h: crypto.Hash): Promise<number> {
  let n = 0;
  for await (const chunk of source.metricHistory(runId)) {
    for (const m of chunk) h.update(`${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${m.value}\n`);
    n += chunk.length;
  }
  return n;
}

function digestOf(run: SourceRun, parent: string | undefined, files: [string, number][], h: crypto.Hash): string {
  const i = run.info;
  h.update(JSON.stringify([i.run_name, i.status, i.start_time, i.end_time, i.user_id, parent ?? null]));
  h.update(JSON.stringify(run.data.params.map((p) => [p.key, p.value]).sort()));
  h.update(JSON.stringify(run.data.tags.filter((t) => !LOCAL_ONLY_TAGS.has(t.key)).map((t) => [t.key, t.value]).sort()));
  h.update(JSON.stringify(run.inputs.dataset_inputs.map((d) => [d.dataset.name, d.dataset.digest])));
  h.update(JSON.stringify(files));
  return h.digest('hex').slice(0, 32);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Publishes one run; `existing` is the remote run that already carries its origin tags. */
export async function publishRun(ctx: RunContext, run: SourceRun, existing: RemoteRunRef | undefined): Promise<void> {
  const localParent = run.data.tags.find((t) => t.key === TAG_PARENT_RUN_ID)?.value;
  const parent = localParent !== undefined ? ctx.remoteIds.get(localParent) : undefined;
  if (localParent !== undefined && parent === undefined) ctx.conflict(`run ${run.info.run_id}: its parent ${localParent} is not published; published without a parent`);
  const files = localFiles(ctx.source.runArtifacts(run).dir);
  const h = crypto.createHash('sha256');
  const points = await historyDigest(ctx.source, run.info.run_id, h);
  const digest = digestOf(run, parent, files, h);
  if (existing && existing.tags.get(PUBLISH_DIGEST) === digest) {
    ctx.remoteIds.set(run.info.run_id, existing.runId);
    ctx.tally.unchanged++;
    return;
  }
  const tags: Tag[] = run.data.tags.filter((t) => !LOCAL_ONLY_TAGS.has(t.key));
  const origin: Tag[] = [
    { key: ORIGIN_STORE, value: ctx.storeId },
    { key: ORIGIN_RUN, value: run.info.run_id },
  ];
  if (parent !== undefined) origin.push({ key: TAG_PARENT_RUN_ID, value: parent });
  // The origin goes in with the create call, so an interrupted publish finds the run again.
  const remote = existing ?? (await ctx.writer.createRun(ctx.tally.experimentId, run, origin));
  ctx.remoteIds.set(run.info.run_id, remote.runId);
  if (existing) ctx.tally.updated++;
  else ctx.tally.created++;

  await sendParams(ctx, run, remote.runId);
  for (const part of chunks(tags, LOG_BATCH_LIMITS.tags)) await ctx.writer.logBatch(remote.runId, { tags: part });
  await sendHistory(ctx, run.info.run_id, remote.runId, points);
  await ctx.writer.logInputs(remote.runId, run);
  await sendArtifacts(ctx, run, remote, files, existing !== undefined);
  await ctx.writer.updateRun(remote.runId, run);
  await ctx.writer.setTag(remote.runId, PUBLISH_DIGEST, digest);
}

async function sendParams(ctx: RunContext, run: SourceRun, remoteId: string): Promise<void> {
  for (const part of chunks(run.data.params, LOG_BATCH_LIMITS.params)) {
    try {
      await ctx.writer.logBatch(remoteId, { params: part });
    } catch (err) {
      if (!(err instanceof RestError && err.errorCode === 'INVALID_PARAMETER_VALUE')) throw err;
      // MLflow's params are write-once: a value changed since the last publish cannot follow.
      ctx.conflict(`run ${run.info.run_id}: ${err.message}`);
    }
  }
}

/** Streams the history in calls of at most 1000 points, a few calls in flight. */
async function sendHistory(ctx: RunContext, localId: string, remoteId: string, expected: number): Promise<void> {
  let batch: Metric[] = [];
  const pending: Promise<void>[] = [];
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const part = batch;
    batch = [];
    const p = ctx.writer.logBatch(remoteId, { metrics: part }).then(() => {
      ctx.tally.metricPoints += part.length;
    });
    p.catch(() => undefined);
    pending.push(p);
    if (pending.length >= 4) await pending.shift();
  };
  let seen = 0;
  for await (const chunk of ctx.source.metricHistory(localId)) {
    for (const m of chunk) {
      batch.push(m);
      seen++;
      if (batch.length >= LOG_BATCH_LIMITS.metrics) await flush();
    }
  }
  await flush();
  await Promise.all(pending);
  if (seen !== expected) throw new Error(`run ${localId}: its history changed while it was published (${expected} then ${seen} points); publish again`);
}

async function sendArtifacts(ctx: RunContext, run: SourceRun, remote: RemoteRunRef, files: [string, number][], existing: boolean): Promise<void> {
  if (!files.length) return;
  const root = ctx.writer.proxied(remote.artifactUri);
  if (root === undefined) {
    ctx.conflict(`run ${run.info.run_id}: the remote stores artifacts at ${remote.artifactUri}, which is not served through its artifact proxy; ${files.length} artifacts not published (run the server with --artifacts-destination)`);
    return;
  }
  const there = existing ? await ctx.writer.proxiedSizes(root) : new Map<string, number>();
  const dir = ctx.source.runArtifacts(run).dir!;
  for (const [rel, size] of files) {
    if (there.get(rel) === size) continue;
    await ctx.writer.upload(root, rel, path.join(dir, ...rel.split('/')), size);
    ctx.tally.artifacts++;
    ctx.onBytes(size);
  }
}
