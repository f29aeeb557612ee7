/**
 * `runlens governance check` (is the setup valid, and what to fix) and `runlens audit verify|export`
 * (the audit trail's hash chain; its entries as JSON lines).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { chooseStoreRoot } from './backend/storeRoot';
import { AUDIT_FILE, verifyAuditText, withoutZeroTail, type AuditEntry } from './governance/auditLog';
import { GovernanceConfigError } from './governance/config';
import { governanceDir, readGovernanceFile } from './governance/open';
import { readSideFileWithJournal } from './store/sideFileRead';

function option(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === name) return argv[i + 1];
    if (a.startsWith(name + '=')) return a.slice(name.length + 1);
  }
  return undefined;
}

function storeRootOf(argv: string[]): string {
  const root = option(argv, '--root');
  return root ? path.resolve(root) : chooseStoreRoot(process.cwd()).root;
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

/** Exit 0 when the setup is usable; 1 with a numbered list of problems and how to fix each. */
export async function governanceCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'check') {
    process.stderr.write("usage: runlens governance check [--governance FILE] [--root DIR]\n");
    return 2;
  }
  const file = option(rest, '--governance') ?? path.join(process.cwd(), '.runlens', 'governance.yaml');
  const fixes: string[] = [];
  const notes: string[] = [];
  if (!fs.existsSync(file)) fixes.push(`No governance file at ${file}: create it (see README "Governance") or pass --governance FILE.`);
  else {
    try {
      const cfg = readGovernanceFile(file);
      notes.push(`${file}: ${cfg.budgets.length} budget(s), policies: ${Object.keys(cfg.policies).filter((k) => (cfg.policies as Record<string, unknown>)[k]).join(', ') || 'none'}`);
      if (cfg.budgets.length === 0) notes.push('no budgets: spend is recorded but nothing is limited');
      if (Object.keys(cfg.defaults).length === 0) notes.push('no defaults: runs that set no genops.* tags count as unattributed (set defaults: {team: …, project: …} or tag runs)');
      if (cfg.otel.enabled) {
        const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
        if (!endpoint) fixes.push('otel.enabled is true but OTEL_EXPORTER_OTLP_ENDPOINT is not set: export it (e.g. http://127.0.0.1:4318) in the server\'s environment, or set otel.enabled: false.');
        else {
          try {
            const u = new URL(endpoint);
            const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
            if (!(await probe(u.hostname, port))) fixes.push(`Nothing answers at OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}: start the collector, or fix the URL.`);
          } catch {
            fixes.push(`OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint} is not a URL (expected e.g. http://127.0.0.1:4318).`);
          }
        }
      }
    } catch (err) {
      if (err instanceof GovernanceConfigError) for (const p of err.problems) fixes.push(`${p}`);
      else fixes.push((err as Error).message);
    }
  }
  const root = storeRootOf(rest);
  const trail = path.join(governanceDir(root), AUDIT_FILE);
  if (fs.existsSync(trail)) {
    const v = verifyAuditText(fs.readFileSync(trail, 'utf8'));
    if (v.bad) fixes.push(`The audit trail ${trail} is broken at line ${v.bad.line}: ${v.bad.reason}. Keep the file as evidence; 'runlens audit verify' shows the entry.`);
    else notes.push(`audit trail ${trail}: ${v.entries} entries, chain intact`);
  } else notes.push(`no audit trail yet at ${trail} (created by the first governed write)`);
  try {
    fs.mkdirSync(root, { recursive: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fixes.push(`The store folder ${root} cannot be created: ${(err as Error).message}`);
  }
  for (const n of notes) process.stdout.write(`ok: ${n}\n`);
  fixes.forEach((f, i) => process.stdout.write(`problem ${i + 1}: ${f}\n`));
  process.stdout.write(fixes.length ? `governance check: ${fixes.length} problem(s)\n` : 'governance check: ok\n');
  return fixes.length ? 1 : 0;
}

/**
 * The trail's text: a `--file` as it is, else the store's trail as its next start leaves it (the
 * file plus entries only its journal holds yet, after a kill). `fromJournal`: bytes the file lacks.
 */
function trailOf(rest: string[]): { trail: string; text: string | undefined; fromJournal: number } {
  const file = option(rest, '--file');
  if (file) return { trail: file, text: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined, fromJournal: 0 };
  const root = storeRootOf(rest);
  const trail = path.join(governanceDir(root), AUDIT_FILE);
  const merged = readSideFileWithJournal(root, path.relative(root, trail));
  const onDisk = fs.existsSync(trail) ? fs.statSync(trail).size : 0;
  return { trail, text: merged?.toString('utf8'), fromJournal: Math.max(0, (merged?.length ?? 0) - onDisk) };
}

export async function auditCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { trail, text, fromJournal } = trailOf(rest);
  if (sub === 'verify') {
    if (text === undefined) {
      process.stderr.write(`runlens: no audit trail at ${trail}\n`);
      return 2;
    }
    const v = verifyAuditText(text);
    const pending = fromJournal ? ` (the last ${fromJournal} bytes are still only in the store's journal, after a crash: its next start writes them into the file)` : '';
    if (v.bad) {
      process.stdout.write(`audit trail BROKEN at line ${v.bad.line}${v.bad.seq !== undefined ? ` (entry ${v.bad.seq})` : ''}: ${v.bad.reason}; ${v.entries} entries before it verify${pending}\n`);
      return 1;
    }
    process.stdout.write(`audit trail intact: ${v.entries} entries${v.tornTail ? ' (plus a partial last line from a crash, never acknowledged)' : ''}${pending}\n`);
    return 0;
  }
  if (sub === 'export') {
    const since = option(rest, '--since');
    const sinceMs = since === undefined ? undefined : /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    if (sinceMs !== undefined && !Number.isFinite(sinceMs)) {
      process.stderr.write(`runlens: --since must be an ISO time or epoch milliseconds (got '${since}')\n`);
      return 2;
    }
    const out = option(rest, '--out');
    const lines = text === undefined ? [] : withoutZeroTail(text).split('\n');
    const chunks: string[] = [];
    for (const line of lines) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        if (sinceMs === undefined || e.ts >= sinceMs) chunks.push(JSON.stringify(e) + '\n');
      } catch {
        // A torn last line is not an entry.
      }
    }
    if (out) fs.writeFileSync(out, chunks.join(''));
    else process.stdout.write(chunks.join(''));
    if (out) process.stderr.write(`wrote ${chunks.length} entries to ${out}\n`);
    return 0;
  }
  process.stderr.write('usage: runlens audit verify [--root DIR | --file FILE]\n       runlens audit export [--root DIR] [--since ISO|ms] [--out FILE]\n');
  return 2;
}
