/**
 * Charts from a plain `mlflow server`'s histories without holding them (issue 18): the sketch a
 * history streams into answers as downsampleSeries does over the whole series (exactly when the
 * range is known, else with every peak), and PlainSeries reads a history page by page, stops at
 * its cap and says so. The server here pages a history as MLflow's SQL store does: offset tokens
 * over (timestamp, step, value) order, a token only while more rows follow.
 */
import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { JsonItems } from '../../src/client/jsonItems';
import { PlainSeries, type MlflowRest } from '../../src/client/plainMlflow';
import { TrackingApiError } from '../../src/client/trackingApiError';
import type { WireChartSeries } from '../../src/client/wireTypes';
import { columnsOf, downsampleSeries, SeriesSketch, type ChartSeries, type SeriesAxis, type SeriesPoint } from '../../src/domain/seriesDownsample';

/** A history as MLflow's store pages it, from points held in columns (a 2M-point history costs the test 48 MB, not 2M objects). */
class PagedHistory implements MlflowRest {
  step: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
  length: number;
  status = 'RUNNING';
  /** Pages of max_results (MLflow 3); false: the whole history at once (2.x). */
  paged = true;
  readonly calls: { route: string; body: Record<string, unknown> | undefined }[] = [];
  onPage: (() => void) | undefined;

  constructor(points: SeriesPoint[] | { length: number; at: (i: number) => SeriesPoint }) {
    const n = points.length;
    const at = Array.isArray(points) ? (i: number) => points[i]! : points.at;
    const order = Array.from({ length: n }, (_, i) => i);
    const all = order.map(at);
    order.sort((a, b) => all[a]!.timestamp - all[b]!.timestamp || all[a]!.step - all[b]!.step || all[a]!.value - all[b]!.value);
    this.step = Float64Array.from(order, (i) => all[i]!.step);
    this.timestamp = Float64Array.from(order, (i) => all[i]!.timestamp);
    this.value = Float64Array.from(order, (i) => all[i]!.value);
    this.length = n;
  }

  /** Points logged since, in the store's order (all later in time than what is there). */
  append(points: SeriesPoint[]): void {
    const grow = (a: Float64Array, f: (p: SeriesPoint) => number) => {
      const b = new Float64Array(this.length + points.length);
      b.set(a.subarray(0, this.length));
      points.forEach((p, i) => (b[this.length + i] = f(p)));
      return b;
    };
    this.step = grow(this.step, (p) => p.step);
    this.timestamp = grow(this.timestamp, (p) => p.timestamp);
    this.value = grow(this.value, (p) => p.value);
    this.length += points.length;
  }

  points(): SeriesPoint[] {
    return Array.from({ length: this.length }, (_, i) => ({ step: this.step[i]!, timestamp: this.timestamp[i]!, value: this.value[i]! }));
  }

  private metric(i: number) {
    const v = this.value[i]!;
    return { key: 'loss', value: Number.isNaN(v) ? 'NaN' : v, timestamp: String(this.timestamp[i]), step: String(this.step[i]) };
  }

  async request<T>(_method: 'GET' | 'POST', route: string, body?: Record<string, unknown>): Promise<T> {
    this.calls.push({ route, body });
    await new Promise((r) => setImmediate(r));
    if (route === '/api/2.0/mlflow/runs/get') {
      let last = -1;
      for (let i = 0; i < this.length; i++) if (last < 0 || this.step[i]! > this.step[last]! || (this.step[i] === this.step[last] && this.timestamp[i]! >= this.timestamp[last]!)) last = i;
      return { run: { info: { status: this.status }, data: { metrics: last < 0 ? [] : [this.metric(last)] } } } as T;
    }
    throw new TrackingApiError('ENDPOINT_NOT_FOUND', `no route ${route}`, 404);
  }

  /** A get-history page as its text arrives, in 64 KB pieces made as they are sent (the test holds no page either). */
  async requestItems<T>(route: string, query: Record<string, unknown>, onItem: (item: unknown) => void): Promise<T> {
    this.calls.push({ route, body: query });
    if (route !== '/api/2.0/mlflow/metrics/get-history') throw new TrackingApiError('ENDPOINT_NOT_FOUND', `no route ${route}`, 404);
    this.onPage?.();
    const offset = query.page_token ? (JSON.parse(Buffer.from(String(query.page_token), 'base64').toString()) as { offset: number }).offset : 0;
    // MLflow 2.x answers the whole history whatever max_results says.
    const end = this.paged ? Math.min(this.length, offset + Number(query.max_results)) : this.length;
    const items = new JsonItems(onItem);
    let piece = '{"metrics": [';
    for (let i = offset; i < end; i++) {
      piece += (i > offset ? ', ' : '') + JSON.stringify(this.metric(i));
      if (piece.length >= 65_536) {
        items.push(piece);
        piece = '';
        this.onPage?.();
        await new Promise((r) => setImmediate(r));
      }
    }
    items.push(`${piece}]${end < this.length ? `, "next_page_token": "${Buffer.from(JSON.stringify({ offset: end })).toString('base64')}"` : ''}}`);
    return items.end() as T;
  }

  searchTraces(): never {
    throw new Error('not asked');
  }

  historyPages(): (string | undefined)[] {
    return this.calls.filter((c) => c.route.endsWith('/get-history')).map((c) => c.body?.page_token as string | undefined);
  }
}

/** What a wire series says, as downsampleSeries' answer (NaN as the client reads it). */
function asChart(w: WireChartSeries): ChartSeries {
  const n = (v: number | string) => Number(v);
  return { total: w.total_points, downsampled: w.downsampled, points: w.points.map((p) => ({ x: p.x, value: n(p.value), min: n(p.min), max: n(p.max), count: p.count })) };
}

/**
 * A sketch's answer has the local downsampler's quality: as many points or fewer, every logged
 * point counted once, the same overall extremes and last point, x increasing, each bucket's x and
 * value a logged point's, and each listed spike the max of a bucket.
 */
function assertSameQuality(got: ChartSeries, points: SeriesPoint[], axis: SeriesAxis, buckets: number, spikes: number[]): void {
  const want = downsampleSeries(columnsOf(points), axis, buckets);
  assert.equal(got.total, want.total);
  assert.equal(got.downsampled, want.downsampled);
  assert.ok(got.points.length <= buckets, `${got.points.length} points`);
  assert.ok(got.points.length >= want.points.length * 0.7, `${got.points.length} points for ${want.points.length}`);
  assert.equal(
    got.points.reduce((n, p) => n + p.count, 0),
    want.total,
  );
  const finite = (xs: number[]) => xs.filter((v) => !Number.isNaN(v));
  assert.equal(Math.max(...finite(got.points.map((p) => p.max))), Math.max(...finite(want.points.map((p) => p.max))));
  assert.equal(Math.min(...finite(got.points.map((p) => p.min))), Math.min(...finite(want.points.map((p) => p.min))));
  assert.deepEqual(got.points.at(-1)!.x, want.points.at(-1)!.x);
  assert.deepEqual(got.points.at(-1)!.value, want.points.at(-1)!.value);
  for (let i = 1; i < got.points.length; i++) assert.ok(got.points[i]!.x > got.points[i - 1]!.x);
  const logged = new Set(points.map((p) => `${axis === 'step' ? p.step : p.timestamp}:${p.value}`));
  for (const p of got.points) assert.ok(logged.has(`${p.x}:${p.value}`), `${p.x}:${p.value} was not logged`);
  for (const v of spikes) assert.ok(got.points.some((p) => p.max === v), `spike ${v} kept`);
}

/** A training curve with a spike every 9973 steps (each a distinct value) and timestamps 10 ms apart. */
const curve = (n: number, from = 0): SeriesPoint[] =>
  Array.from({ length: n }, (_, k) => {
    const s = from + k;
    return { step: s, timestamp: 1_700_000_000_000 + s * 10, value: s % 9973 === 0 ? 50 + s / 9973 : Math.sin(s / 997) - s * 1e-5 };
  });
const spikesOf = (pts: SeriesPoint[]) => pts.filter((p) => p.value >= 50).map((p) => p.value);

function sketchOf(points: SeriesPoint[], axis: SeriesAxis, buckets: number, range?: { lo?: number; hi?: number }): ChartSeries {
  const s = new SeriesSketch(buckets, range);
  for (const p of points) s.add(axis === 'step' ? p.step : p.timestamp, p.value);
  return s.result();
}

describe('SeriesSketch: a series downsampled as it streams in, in O(buckets) memory', () => {
  const pts = curve(100_000);
  const shuffled = [...pts].sort((a, b) => Math.sin(a.step * 12.9898) - Math.sin(b.step * 12.9898));

  it("answers downsampleSeries' points exactly when the x range is known, in any order", () => {
    for (const axis of ['step', 'timestamp'] as const) {
      const lo = axis === 'step' ? 0 : pts[0]!.timestamp;
      const hi = axis === 'step' ? 99_999 : pts.at(-1)!.timestamp;
      assert.deepEqual(sketchOf(shuffled, axis, 1000, { lo, hi }), downsampleSeries(columnsOf(shuffled), axis, 1000));
      // Only the last x known: the first points' lowest stands for the range's start.
      assert.deepEqual(sketchOf(pts, axis, 1000, { hi }), downsampleSeries(columnsOf(pts), axis, 1000));
    }
  });

  it('keeps every peak, the extremes and the last point when the range is unknown or wrong (a growing run, any order)', () => {
    for (const order of [pts, shuffled, [...pts].reverse()]) {
      assertSameQuality(sketchOf(order, 'step', 1000), order, 'step', 1000, spikesOf(pts));
      assertSameQuality(sketchOf(order, 'timestamp', 500), order, 'timestamp', 500, spikesOf(pts));
      assertSameQuality(sketchOf(order, 'step', 1000, { lo: 0, hi: 10_000 }), order, 'step', 1000, spikesOf(pts));
    }
    // Far apart: a run resumed at step 10^9.
    const apart = [...curve(5000), ...curve(5000, 1_000_000_000)];
    assertSameQuality(sketchOf(apart, 'step', 200), apart, 'step', 200, spikesOf(apart));
  });

  it('keeps a short series as it is, NaN-only buckets as NaN, and takes more points after answering', () => {
    const short = [{ step: 2, timestamp: 20, value: 3 }, { step: 1, timestamp: 10, value: NaN }];
    assert.deepEqual(sketchOf(short, 'step', 10), downsampleSeries(columnsOf(short), 'step', 10));
    const nan = [...Array.from({ length: 50 }, (_, i) => ({ step: i, timestamp: i, value: NaN })), ...Array.from({ length: 50 }, (_, i) => ({ step: 50 + i, timestamp: 50 + i, value: i }))];
    const s = sketchOf(nan, 'step', 10);
    assert.ok(Number.isNaN(s.points[0]!.min) && Number.isNaN(s.points[0]!.max));
    assertSameQuality(s, nan, 'step', 10, [49]);
    assert.deepEqual(sketchOf(nan, 'step', 10, { hi: 99 }), downsampleSeries(columnsOf(nan), 'step', 10));
    const live = new SeriesSketch(100);
    pts.slice(0, 50_000).forEach((p) => live.add(p.step, p.value));
    const first = live.result();
    pts.slice(50_000).forEach((p) => live.add(p.step, p.value));
    assert.equal(first.total, 50_000);
    assertSameQuality(live.result(), pts, 'step', 100, spikesOf(pts));
  });
});

describe('JsonItems: a long JSON answer read item by item', () => {
  it('hands over the items of the top-level lists and keeps the rest, however the text is cut', () => {
    const bodies = [
      { metrics: [{ key: 'a{b', value: 'NaN', timestamp: '12', step: 3 }, { key: 'x"]},\\', value: 1.5, step: -1 }], next_page_token: 'tok,]}' },
      { a: { b: [1, 2], c: 'q' }, list: [1, 'two', [3, [4]], { five: { six: [7] } }, null, true, -8.5e3, '\\"'], empty: [], z: 0 },
      { metrics: [] },
      {},
    ];
    for (const body of bodies) {
      for (const space of [0, 2]) {
        const text = JSON.stringify(body, null, space);
        const want = JSON.parse(text) as Record<string, unknown>;
        const wantItems: unknown[] = [];
        for (const [k, v] of Object.entries(want)) if (Array.isArray(v)) wantItems.push(...(want[k] = [], v));
        for (let cut = 0; cut <= text.length; cut++) {
          for (const cut2 of [cut, Math.min(text.length, cut + 3)]) {
            const items: unknown[] = [];
            const j = new JsonItems((x) => items.push(x));
            [text.slice(0, cut), text.slice(cut, cut2), text.slice(cut2)].forEach((t) => j.push(t));
            assert.deepEqual([j.end(), items], [want, wantItems], `${text} cut at ${cut}, ${cut2}`);
          }
        }
      }
    }
    // Strings of backslashes and quotes, cut anywhere.
    let seed = 7;
    const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    for (let round = 0; round < 300; round++) {
      const word = () => Array.from({ length: rand(6) }, () => ['\\', '"', 'a', '\\\\', ']', '{'][rand(6)]).join('');
      const body = { metrics: Array.from({ length: rand(4) }, () => ({ key: word(), value: rand(9) })), next_page_token: word() };
      const text = JSON.stringify(body);
      const items: unknown[] = [];
      const j = new JsonItems((x) => items.push(x));
      let at = 0;
      while (at < text.length) {
        const to = Math.min(text.length, at + 1 + rand(7));
        j.push(text.slice(at, to));
        at = to;
      }
      assert.deepEqual([j.end(), items], [{ metrics: [], next_page_token: body.next_page_token }, body.metrics], text);
    }
    const early = new JsonItems(() => undefined);
    early.push('{"metrics": [{"step": 1}');
    assert.throws(() => early.end(), SyntaxError);
  });
});

describe('PlainSeries: charts of a plain server read page by page', () => {
  it("charts a 100k-point history (4 pages) as the local store does, on either axis: over the first page's lowest x to the latest metric's", async () => {
    const server = new PagedHistory(curve(100_000));
    const series = new PlainSeries();
    for (const axis of ['step', 'timestamp'] as const) {
      const got = asChart(await series.series(server, 'r1', 'loss', axis, 1000));
      assert.deepEqual(got, downsampleSeries(columnsOf(server.points()), axis, 1000));
    }
    assert.deepEqual(server.historyPages().length, 8);
  });

  it('keeps the peaks when the steps were logged out of time order (the range is not the first and last point)', async () => {
    // Steps counting down in time, then a late point at step -5.
    const pts = [...curve(60_000).map((p) => ({ ...p, step: 60_000 - p.step })), { step: -5, timestamp: 1_800_000_000_000, value: 0 }];
    const server = new PagedHistory(pts);
    assertSameQuality(asChart(await new PlainSeries().series(server, 'r1', 'loss', 'step', 500)), pts, 'step', 500, spikesOf(pts));
  });

  it('stops at its cap and says how many points it read', async () => {
    const server = new PagedHistory(curve(100_000));
    const capped = await new PlainSeries(60_000, 30_000).series(server, 'r1', 'loss', 'step', 1000);
    assert.equal(capped.first_points, 30_000);
    assert.equal(capped.total_points, 30_000);
    assert.equal(server.historyPages().length, 2);
    assertSameQuality(asChart(capped), server.points().slice(0, 30_000), 'step', 1000, []);
    // A history of exactly the cap is whole.
    const whole = await new PlainSeries(60_000, 100_000).series(new PagedHistory(curve(100_000)), 'r1', 'loss', 'step', 1000);
    assert.equal(whole.first_points, undefined);
  });

  for (const paged of [true, false]) {
    it(`holds no history in memory: reading 2,000,000 points ${paged ? 'in 25k-point pages' : 'in one answer, as MLflow 2.x gives a history'} keeps O(buckets) live`, async function () {
      this.timeout(180_000);
      const n = 2_000_000;
      const server = new PagedHistory({ length: n, at: (i) => ({ step: i, timestamp: 1_700_000_000_000 + i, value: Math.sin(i / 5000) + (i === 1_234_567 ? 9 : 0) }) });
      server.status = 'FINISHED';
      server.paged = paged;
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const live = () => {
        gc();
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      const base = live();
      let peak = 0;
      let pieces = 0;
      // While the answer arrives (every 8th 64 KB piece): what the read holds (the sketch and a piece, no history).
      server.onPage = () => {
        if (pieces++ % 8 === 0) peak = Math.max(peak, live() - base);
      };
      const got = await new PlainSeries().series(server, 'r1', 'loss', 'step', 1000);
      assert.equal(got.total_points, n);
      assert.equal(server.historyPages().length, paged ? 80 : 1);
      assert.ok(got.points.some((p) => p.max === Math.sin(1_234_567 / 5000) + 9));
      // The history as columns would be 48 MB (96 MB while growing), as objects or JSON text far more.
      assert.ok(peak < 8 * 2 ** 20, `${(peak / 2 ** 20).toFixed(1)} MB live while reading`);
      console.log(`      live while reading ${n.toLocaleString()} points: at most ${(peak / 2 ** 20).toFixed(1)} MB`);
    });
  }

  it("answers an ended run's chart from its sketch for a minute, then reads the history again", async () => {
    const server = new PagedHistory(curve(30_000));
    server.status = 'FINISHED';
    let now = 1000;
    const series = new PlainSeries(60_000);
    const first = await series.series(server, 'r1', 'loss', 'step', 100, () => now);
    const asked = server.calls.length;
    now += 60_000;
    assert.deepEqual(await series.series(server, 'r1', 'loss', 'step', 100, () => now), first);
    assert.equal(server.calls.length, asked, 'redrawn without a request');
    // Another bucket count or axis is another chart.
    await series.series(server, 'r1', 'loss', 'step', 200, () => now);
    assert.ok(server.calls.length > asked);
    now += 1;
    const again = server.calls.length;
    assert.deepEqual(await series.series(server, 'r1', 'loss', 'step', 100, () => now), first);
    assert.ok(server.historyPages().length > 0 && server.calls.length > again, 'read again after the minute');
  });

  it('keeps sketches for redraws within a bucket budget, the oldest going first', async () => {
    const server = new PagedHistory(curve(3000));
    server.status = 'FINISHED';
    const series = new PlainSeries(60_000, 1_000_000, 300);
    const read = async (runId: string, buckets: number): Promise<boolean> => {
      const before = server.calls.length;
      await series.series(server, runId, 'loss', 'step', buckets);
      return server.calls.length > before;
    };
    for (const [run, buckets] of [['r1', 100], ['r2', 100], ['r3', 200]] as const) assert.equal(await read(run, buckets), true);
    assert.equal(await read('r2', 100), false, 'kept');
    assert.equal(await read('r1', 100), true, 'the oldest went first');
    assert.equal(await read('r4', 400), true);
    assert.equal(await read('r4', 400), false, 'the newest stays whatever its size');
    assert.equal(await read('r3', 200), true);
  });

  describe('a live run read again', () => {
    const later = (n: number, from: number) => curve(n, from);

    it("asks only from the history's last page, and charts the grown series with every peak", async () => {
      const server = new PagedHistory(curve(100_000));
      const series = new PlainSeries();
      await series.series(server, 'r1', 'loss', 'step', 1000);
      assert.equal(server.historyPages().length, 4);
      server.calls.length = 0;
      server.append(later(30_000, 100_000));
      const grown = asChart(await series.series(server, 'r1', 'loss', 'step', 1000));
      const offsets = server.historyPages().map((t) => (t ? (JSON.parse(Buffer.from(t, 'base64').toString()) as { offset: number }).offset : 0));
      assert.deepEqual(offsets, [75_000, 100_000, 125_000], 'the last page again, then the new ones');
      assertSameQuality(grown, server.points(), 'step', 1000, spikesOf(server.points()));
      // Nothing new: one page asked, the same chart.
      server.calls.length = 0;
      assert.deepEqual(asChart(await series.series(server, 'r1', 'loss', 'step', 1000)), grown);
      assert.equal(server.historyPages().length, 1);
      // By time too.
      await series.series(server, 'r1', 'loss', 'timestamp', 300);
      server.append(later(1000, 130_000));
      assertSameQuality(asChart(await series.series(server, 'r1', 'loss', 'timestamp', 300)), server.points(), 'timestamp', 300, spikesOf(server.points()));
    });

    it('reads the whole history again when what was read is not there as it was (points gone, or logged earlier in time)', async () => {
      for (const change of ['shrink', 'earlier', 'value'] as const) {
        const server = new PagedHistory(curve(80_000));
        const series = new PlainSeries();
        await series.series(server, 'r1', 'loss', 'step', 500);
        if (change === 'shrink') server.length = 77_000;
        else if (change === 'earlier') {
          const pts = [{ step: 1, timestamp: 1_600_000_000_000, value: 123 }, ...server.points()];
          Object.assign(server, new PagedHistory(pts), { calls: server.calls });
        } else server.value[79_999] = 7;
        server.calls.length = 0;
        const got = asChart(await series.series(server, 'r1', 'loss', 'step', 500));
        assert.equal(server.historyPages()[1], undefined, `${change}: read from the start`);
        assert.deepEqual(got, downsampleSeries(columnsOf(server.points()), 'step', 500), change);
      }
    });

    it('reads a one-page history again whole, so its chart stays exact', async () => {
      const server = new PagedHistory(curve(10_000));
      const series = new PlainSeries();
      await series.series(server, 'r1', 'loss', 'step', 1000);
      server.append(later(5000, 10_000));
      assert.deepEqual(asChart(await series.series(server, 'r1', 'loss', 'step', 1000)), downsampleSeries(columnsOf(server.points()), 'step', 1000));
    });

    it('counts each point once when two views read the same chart at once', async () => {
      const server = new PagedHistory(curve(60_000));
      const series = new PlainSeries();
      await series.series(server, 'r1', 'loss', 'step', 1000);
      server.append(later(40_000, 60_000));
      const [a, b] = await Promise.all([series.series(server, 'r1', 'loss', 'step', 1000), series.series(server, 'r1', 'loss', 'step', 1000)]);
      assert.equal(a.total_points, 100_000);
      assert.deepEqual(a, b);
    });
  });
});

