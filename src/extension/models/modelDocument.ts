/**
 * A model version as a stable text document (`runlens-model:/<name>/<version>.yaml`), so two
 * versions can be compared in VS Code's diff editor: registry fields, lineage, the model's
 * flavors, signature, metrics and params, each sorted so only real differences show.
 */
import * as vscode from 'vscode';
import type { ModelVersionDetail } from '../../ui/modelProtocol';
import { formatField } from '../../ui/modelFormat';
import { UiBackend } from '../../ui/uiBackend';
import type { TrackingService } from '../backend/trackingService';

export const MODEL_SCHEME = 'runlens-model';

export function modelVersionUri(name: string, version: string): vscode.Uri {
  return vscode.Uri.from({ scheme: MODEL_SCHEME, path: `/${encodeURIComponent(name)}/v${version}.yaml` });
}

function parse(uri: vscode.Uri): { name: string; version: string } {
  const m = /^\/([^/]+)\/v([^/]+)\.yaml$/.exec(uri.path);
  if (!m) throw new Error(`Not a model version document: ${uri.toString()}`);
  return { name: decodeURIComponent(m[1]!), version: m[2]! };
}

const q = (v: string): string => (/^[\w.@/:-]*$/.test(v) && v !== '' ? v : JSON.stringify(v));
const sortedEntries = (r: Record<string, string | number>): [string, string | number][] => Object.entries(r).sort(([a], [b]) => a.localeCompare(b));

/** The document text of one version (exported for tests: what the diff editor compares). */
export function formatModelVersion(d: ModelVersionDetail): string {
  const lines = [`name: ${q(d.name)}`, `version: ${d.version}`, `stage: ${d.stage}`, `aliases: [${[...d.aliases].sort().join(', ')}]`, `source: ${q(d.source)}`];
  if (d.runId) lines.push(`run: ${d.runId}${d.runName ? `  # ${d.runName}` : ''}`);
  lines.push(`description: ${q(d.description)}`, 'tags:', ...sortedEntries(d.tags).map(([k, v]) => `  ${q(k)}: ${q(String(v))}`));
  const m = d.model;
  if (m) {
    lines.push('model:', `  name: ${q(m.name)}`);
    if (m.modelId) lines.push(`  model_id: ${m.modelId}`);
    lines.push(`  flavors: [${m.flavors.join(', ')}]`);
    for (const part of ['inputs', 'outputs', 'params'] as const) {
      const fields = m.signature?.[part];
      if (fields) lines.push(`  ${part}:`, ...fields.map((f) => `    - ${formatField(f)}`));
    }
    lines.push('  metrics:', ...[...m.metrics].sort((a, b) => a.key.localeCompare(b.key) || a.step - b.step).map((x) => `    ${q(x.key)}: ${x.value}${x.step ? `  # step ${x.step}` : ''}`));
    lines.push('  params:', ...sortedEntries(m.params).map(([k, v]) => `    ${q(k)}: ${q(String(v))}`));
  }
  return `${lines.join('\n')}\n`;
}

export class ModelDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly service: TrackingService) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    await this.service.ready();
    const { name, version } = parse(uri);
    return formatModelVersion(await new UiBackend(this.service.client).handle({ kind: 'modelVersion', name, version }));
  }
}
