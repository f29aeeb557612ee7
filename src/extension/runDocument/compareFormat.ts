/** N runs side by side as a Markdown table: differing rows first, identical ones after (no vscode import). */
import type { WireRun } from '../../client/wireTypes';
import { formatValue, oneLine, runLabel } from '../../ui/runFormat';

function cell(v: string | undefined): string {
  return v === undefined ? '—' : oneLine(v).replace(/\|/g, '\\|');
}

export function formatComparison(runs: WireRun[]): string {
  const rows: { section: string; key: string; values: (string | undefined)[] }[] = [];
  const collect = (section: string, pick: (r: WireRun) => { key: string; value: string }[]): void => {
    const keys = [...new Set(runs.flatMap((r) => pick(r).map((x) => x.key)))].sort();
    for (const key of keys) rows.push({ section, key, values: runs.map((r) => pick(r).find((x) => x.key === key)?.value) });
  };
  collect('param', (r) => r.data.params ?? []);
  collect('metric', (r) => (r.data.metrics ?? []).map((m) => ({ key: m.key, value: formatValue(m.value) })));
  collect('tag', (r) => (r.data.tags ?? []).filter((t) => !t.key.startsWith('mlflow.')));
  const differs = (values: (string | undefined)[]): boolean => new Set(values.map((v) => v ?? '\u0000')).size > 1;
  const header = `| | key | ${runs.map((r) => cell(runLabel(r))).join(' | ')} |\n|---|---|${runs.map(() => '---').join('|')}|`;
  const line = (r: (typeof rows)[number]): string => `| ${r.section} | ${cell(r.key)} | ${r.values.map(cell).join(' | ')} |`;
  const diff = rows.filter((r) => differs(r.values));
  const same = rows.filter((r) => !differs(r.values));
  const out = [
    `# Comparing ${runs.length} runs`,
    '',
    runs.map((r) => `- **${cell(runLabel(r))}** \`${r.info.run_id}\` (${r.info.status})`).join('\n'),
    '',
    `## Differences (${diff.length})`,
    '',
    diff.length ? `${header}\n${diff.map(line).join('\n')}` : '_No differences in params, latest metrics or tags._',
    '',
    `## Identical (${same.length})`,
    '',
    same.length ? `${header}\n${same.map(line).join('\n')}` : '_Nothing in common._',
    '',
  ];
  return out.join('\n');
}
