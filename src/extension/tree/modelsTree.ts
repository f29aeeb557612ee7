/** Registered models → versions, with stage and aliases; refreshed on demand and after run writes. */
import * as vscode from 'vscode';
import type { TrackingService } from '../backend/trackingService';
import type { WireModelVersion, WireRegisteredModel } from '../../client/wireTypes';
import { isoTime } from '../../ui/runFormat';
import { KeyedThrottle } from '../throttle';

export type ModelNode =
  | { type: 'model'; model: WireRegisteredModel }
  | { type: 'version'; version: WireModelVersion; aliases: string[] }
  | { type: 'message'; message: string };

export class ModelsTree implements vscode.TreeDataProvider<ModelNode> {
  private readonly emitter = new vscode.EventEmitter<ModelNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly throttle = new KeyedThrottle();

  constructor(private readonly service: TrackingService) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  scheduleRefresh(): void {
    this.throttle.schedule('models', 2000, () => this.refresh());
  }

  async getChildren(node?: ModelNode): Promise<ModelNode[]> {
    try {
      if (!node) {
        await this.service.ready();
        const models = await this.service.client.listRegisteredModels();
        return models.map((model) => ({ type: 'model', model }));
      }
      if (node.type === 'model') {
        const versions = await this.service.client.listModelVersions(node.model.name);
        const aliasesOf = new Map<string, string[]>();
        for (const a of node.model.aliases ?? []) aliasesOf.set(a.version, [...(aliasesOf.get(a.version) ?? []), a.alias]);
        return versions.map((version) => ({ type: 'version', version, aliases: version.aliases?.length ? version.aliases : (aliasesOf.get(version.version) ?? []) }));
      }
    } catch (err) {
      return [{ type: 'message', message: err instanceof Error ? err.message : String(err) }];
    }
    return [];
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.type === 'model') {
      const item = new vscode.TreeItem(node.model.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `model:${node.model.name}`;
      item.iconPath = new vscode.ThemeIcon('package');
      const latest = node.model.latest_versions?.map((v) => Number(v.version)).sort((a, b) => b - a)[0];
      item.description = latest ? `latest v${latest}` : '';
      item.tooltip = node.model.description || node.model.name;
      item.contextValue = 'runlens.model';
      return item;
    }
    if (node.type === 'version') {
      const v = node.version;
      const item = new vscode.TreeItem(`Version ${v.version}`);
      item.id = `modelVersion:${v.name}/${v.version}`;
      item.iconPath = new vscode.ThemeIcon('versions');
      const stage = v.current_stage && v.current_stage !== 'None' ? v.current_stage : '';
      item.description = [stage, ...node.aliases.map((a) => `@${a}`)].filter(Boolean).join(' · ');
      item.tooltip = new vscode.MarkdownString(
        `**${v.name}** v${v.version}\n\nstage: ${stage || 'None'} · aliases: ${node.aliases.join(', ') || 'none'}\n\ncreated ${isoTime(v.creation_timestamp)}${v.run_id ? `\n\nrun \`${v.run_id}\`` : ''}\n\nsource: ${v.source ?? ''}`,
      );
      item.contextValue = `runlens.modelVersion${v.run_id ? ';hasRun' : ''}${node.aliases.length ? ';hasAlias' : ''}`;
      item.command = { command: 'runlens.openModelVersion', title: 'Open Model Version', arguments: [node] };
      return item;
    }
    const item = new vscode.TreeItem(node.message);
    item.iconPath = new vscode.ThemeIcon('warning');
    return item;
  }

  dispose(): void {
    this.throttle.dispose();
    this.emitter.dispose();
  }
}
