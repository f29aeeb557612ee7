/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The traces list, sessions and the trace viewer in a browser, against a real `runlens serve`
// seeded by the real mlflow client (a nested RAG/agent trace with chat messages, tokens and a
// failing tool; a three-turn chat session) and by an OTLP export of a 5,000-span trace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openView, post, report, seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow
exp = mlflow.set_experiment("agent").experiment_id

@mlflow.trace(span_type="RETRIEVER")
def search_docs(query):
    return [{"id": "menu.pdf", "text": "Open 12-22h; vegan options."}]

@mlflow.trace(span_type="TOOL")
def book_table(time):
    raise TimeoutError("booking API did not answer in 5 s")

@mlflow.trace(span_type="LLM")
def chat_model(model, messages):
    span = mlflow.get_current_active_span()
    span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 812, "output_tokens": 64, "total_tokens": 876})
    return {"choices": [{"message": {"role": "assistant", "content": "We are open 12-22h and have vegan dishes. Booking failed; please retry."}}]}

@mlflow.trace(name="restaurant_agent", span_type="AGENT")
def agent(question, session):
    mlflow.update_current_trace(metadata={"mlflow.trace.session": session, "mlflow.trace.user": "ana"})
    with mlflow.start_span("plan", span_type="CHAIN") as plan:
        plan.set_inputs({"question": question})
        docs = search_docs(question)
        try:
            book_table("19:00")
        except TimeoutError:
            pass
        plan.set_outputs({"steps": ["search_docs", "book_table"]})
    msgs = [{"role": "system", "content": "You are a helpful host."}, {"role": "user", "content": question}]
    reply = chat_model("gpt-4o-mini", msgs)
    return reply["choices"][0]["message"]["content"]

turns = ["When are you open?", "Do you have vegan food?", "Book a table for 19:00"]
for q in turns:
    agent(q, "chat-7")
if hasattr(mlflow, "flush_trace_async_logging"):
    mlflow.flush_trace_async_logging()
print("EXP=" + exp)
print("TRACE=" + mlflow.get_last_active_trace_id())
`;

function bigTrace(spans: number): { body: unknown; traceHex: string } {
  const traceHex = 'ab'.repeat(16);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const list: unknown[] = [];
  const hex = (n: number): string => n.toString(16).padStart(16, '0');
  for (let i = 1; i <= spans; i++) {
    // root 1 → 49 stages → the rest spread under the stages
    const parent = i === 1 ? '' : i <= 50 ? hex(1) : hex(2 + ((i - 51) % 49));
    const start = t0 + BigInt(i) * 200_000n;
    list.push({
      traceId: traceHex,
      spanId: hex(i),
      ...(parent ? { parentSpanId: parent } : {}),
      name: i === 1 ? 'batch_pipeline' : i <= 50 ? `stage-${i}` : `step-${i}`,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(i === 1 ? t0 + BigInt(spans + 10) * 200_000n : start + 150_000n),
      attributes: [
        { key: 'mlflow.spanType', value: { stringValue: i <= 50 ? 'CHAIN' : 'TOOL' } },
        { key: 'mlflow.spanInputs', value: { stringValue: JSON.stringify({ item: i }) } },
      ],
      status: { code: 1 },
    });
  }
  return { traceHex, body: { resourceSpans: [{ scopeSpans: [{ spans: list }] }] } };
}

describe('traces list, sessions and trace viewer in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let base: string;
  let browser: Browser;
  let exp: string;
  let traceId: string;

  before(async () => {
    seeded = await seededServer('runlens-traces-', SEED);
    base = seeded.base;
    browser = seeded.browser;
    exp = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
    traceId = /TRACE=(\S+)/.exec(seeded.seedOutput)![1]!;
  });

  after(async () => {
    await seeded?.close();
  });

  const open = (url: string, theme = 'dark'): Promise<Page> => openView(browser, base, url, theme);

  it('lists traces with request, status, latency, tokens and session; filters and sorts', async () => {
    const page = await open(`/runlens/ui/traces?experiments=${exp}`);
    await page.waitForSelector('.trace-row');
    assert.equal(await page.locator('.trace-row').count(), 3);
    const first = page.locator('.trace-row').first();
    assert.equal(await first.locator('.col-request').innerText(), 'Book a table for 19:00');
    assert.equal(await first.locator('.col-tokens').innerText(), '876');
    assert.equal(await first.locator('.col-session').innerText(), 'chat-7');
    await page.screenshot({ path: path.join(SHOTS, 'traces-list.png') });
    await page.locator('#filter input').fill("span.type = 'RETRIEVER' and trace.timestamp_ms > 0");
    await page.locator('#filter input').press('Enter');
    await page.waitForFunction(() => document.querySelector('#count')?.textContent === '3 traces');
    await page.locator('#filter input').fill("span.bogus = 'x'");
    await page.locator('#filter input').press('Enter');
    await page.waitForFunction(() => /span key 'bogus'/.test(document.querySelector('.filter-error')?.textContent ?? ''));
    await page.close();
  });

  it('shows a nested trace: tree and waterfall on the same rows, chat, tokens, cost and the failing tool', async () => {
    const page = await open(`/runlens/ui/trace?trace=${traceId}`);
    const names = await page.$$eval('.span-row .label', (xs) => xs.map((x) => x.textContent));
    assert.deepEqual(names, ['restaurant_agent', 'plan', 'search_docs', 'book_table', 'chat_model']);
    const levels = await page.$$eval('.span-row', (xs) => xs.map((x) => x.getAttribute('aria-level')));
    assert.deepEqual(levels, ['1', '2', '3', '3', '2']);
    // Waterfall bars sit on their tree rows: each bar's vertical centre is inside its row.
    const aligned = await page.$$eval('.span-row', (xs) =>
      xs.every((row) => {
        const r = row.getBoundingClientRect();
        const b = row.querySelector('.bar')!.getBoundingClientRect();
        return b.top >= r.top && b.bottom <= r.bottom && b.width >= 2;
      }),
    );
    assert.ok(aligned);
    assert.match(await page.locator('#trace-meta').innerText(), /876 tokens \(812 in \/ 64 out\).*estimated/);
    await page.locator('.span-row[data-span] .label', { hasText: 'chat_model' }).click();
    await page.waitForSelector('#span-chat .bubble.assistant');
    assert.match(await page.locator('#span-chat').innerText(), /system[\s\S]*helpful host[\s\S]*user[\s\S]*Book a table[\s\S]*assistant[\s\S]*vegan/);
    assert.match(await page.locator('#span-facts').innerText(), /Model\s+gpt-4o-mini[\s\S]*Cost \(estimated\)\s+\$0\.000/);
    await page.screenshot({ path: path.join(SHOTS, 'trace-viewer-chat.png') });
    await page.locator('.span-row .label', { hasText: 'book_table' }).click();
    await page.waitForSelector('.exception');
    assert.match(await page.locator('.exception').innerText(), /TimeoutError: booking API did not answer[\s\S]*Traceback/);
    assert.equal(await page.locator('.span-row.status-error .label').innerText(), 'book_table');
    await page.screenshot({ path: path.join(SHOTS, 'trace-viewer-nested.png') });
    // Search within the trace: matches highlighted, others dimmed.
    await page.locator('#search input').fill('menu.pdf');
    await page.locator('#search input').press('Enter');
    await page.waitForFunction(() => document.querySelector('#matches')?.textContent === '1 match');
    assert.equal(await page.locator('.span-row.match .label').innerText(), 'search_docs');
    assert.match(await page.locator('#span-title').innerText(), /RETR\s+search_docs\s+OK/);
    await page.close();
  });

  it('adds human feedback in the viewer and the REST API returns it as an assessment', async () => {
    const page = await open(`/runlens/ui/trace?trace=${traceId}`);
    await page.locator('#thumb-down').click();
    await page.locator('#rating').selectOption('2');
    await page.locator('#comment').fill('Booking failed silently');
    await page.locator('#submit-feedback').click();
    await page.waitForFunction(() => document.querySelector('#feedback-status')?.textContent === 'Saved.');
    assert.match(await page.locator('#trace-assessments').innerText(), /user_feedback ✗ no[\s\S]*rating 2/);
    await page.screenshot({ path: path.join(SHOTS, 'trace-viewer-feedback.png') });
    await page.close();
    const res = await fetch(`${base}/api/3.0/mlflow/traces/${traceId}`);
    const info = ((await res.json()) as { trace: { trace_info: { assessments: { assessment_name: string; feedback?: { value: unknown }; rationale?: string; source: { source_type: string } }[] } } }).trace.trace_info;
    const byName = Object.fromEntries(info.assessments.map((a) => [a.assessment_name, a]));
    assert.equal(byName.user_feedback!.feedback!.value, false);
    assert.equal(byName.rating!.feedback!.value, 2);
    assert.equal(byName.rating!.rationale, 'Booking failed silently');
    assert.equal(byName.rating!.source.source_type, 'HUMAN');
  });

  it('reads a session as one conversation with per-turn latency and tokens', async () => {
    const page = await open(`/runlens/ui/traces?experiments=${exp}&tab=sessions`);
    await page.waitForSelector('.turn');
    assert.match(await page.locator('.session-item').first().innerText(), /chat-7[\s\S]*3 turns[\s\S]*2,628 tokens[\s\S]*ana/);
    const turns = await page.$$eval('.turn .bubble.user .text', (xs) => xs.map((x) => x.textContent));
    assert.deepEqual(turns, ['When are you open?', 'Do you have vegan food?', 'Book a table for 19:00']);
    assert.match(await page.locator('.turn').first().locator('.turn-meta').innerText(), /Turn 1 · .* · \d+(\.\d+)? ?(ms|s) · 876 tokens/);
    assert.match(await page.locator('.turn .bubble.assistant .text').first().innerText(), /open 12-22h/);
    await page.screenshot({ path: path.join(SHOTS, 'trace-session.png') });
    await page.close();
  });

  it('links a run to its traces: the run page counts them and opens the filtered traces list', async () => {
    const run = (await post(base, '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: 'eval-run' })) as { run: { info: { run_id: string } } };
    const runId = run.run.info.run_id;
    await post(base, '/api/2.0/mlflow/traces/link-to-run', { trace_ids: [traceId], run_id: runId });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${base}/runlens/ui/run?run=${runId}&theme=dark`);
    const link = page.locator('#run-traces');
    await link.waitFor({ timeout: 30_000 });
    assert.equal(await link.innerText(), '1 trace ›');
    const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    await popup.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await popup.waitForSelector('.trace-row');
    assert.equal(await popup.locator('.trace-row').count(), 1);
    assert.equal(await popup.locator('.trace-row').getAttribute('data-trace'), traceId);
    assert.equal(await popup.locator('#filter').evaluate((f) => (f as HTMLElement & { value: string }).value), `run_id = '${runId}'`);
    await popup.close();
    await page.close();
  });

  it('opens a trace whose stored spans are damaged, with a note instead of an error page', async () => {
    const id = `tr-${'de'.repeat(16)}`;
    const started = await post(base, '/api/3.0/mlflow/traces', {
      trace: { trace_info: { trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }, request_time: new Date().toISOString(), execution_duration: '0.2s', state: 'OK', tags: { 'mlflow.traceName': 'damaged' } } },
    });
    const location = (started.trace as { trace_info: { tags: Record<string, string> } }).trace_info.tags['mlflow.artifactLocation']!;
    const dir = path.join(seeded.root, ...location.replace(/^mlflow-artifacts:\//, '').split('/'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'traces.json'), '{"spans": [{"span_id": ');
    const page = await open(`/runlens/ui/trace?trace=${id}`);
    assert.match(await page.locator('#trace-meta').innerText(), /0 spans/);
    assert.match(await page.locator('#spans-error').innerText(), /could not be read: traces\.json is damaged/);
    await page.close();
  });

  it('opens a 5,000-span trace sent over OTLP (virtualised rows) and searches it', async () => {
    const { body, traceHex } = bigTrace(5000);
    const res = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': exp }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const t0 = Date.now();
    await page.goto(`${base}/runlens/ui/trace?trace=tr-${traceHex}&theme=light`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const total = Date.now() - t0;
    const inPage = Number(await page.evaluate(() => document.body.dataset.loadMs));
    report(`trace viewer, 5,000-span trace: ${inPage} ms fetch+draw in the page, ${total} ms including page load`);
    assert.match(await page.locator('#trace-meta').innerText(), /5,000 spans/);
    assert.ok((await page.locator('.span-row').count()) < 120, 'only visible rows are in the DOM');
    await page.locator('#search input').fill('step-4999');
    await page.locator('#search input').press('Enter');
    await page.waitForFunction(() => document.querySelector('#matches')?.textContent === '1 match');
    assert.equal(await page.locator('.span-row.selected .label').innerText(), 'step-4999');
    await page.screenshot({ path: path.join(SHOTS, 'trace-viewer-5000.png') });
    await page.close();
  });
});
