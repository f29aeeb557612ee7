/**
 * The Models tree's commands: open a version's or a model's page, transition a stage, set and
 * remove aliases, copy `models:/` URIs, diff two versions, delete a version. Each takes the tree
 * node it was invoked on (or `{ name, version }`), and an optional value after the menu's
 * selection argument so scripts and tests can skip the prompt.
 */
import * as vscode from 'vscode';
import { ModelsClient } from '../../client/modelsClient';
import type { Logger } from '../../domain/logger';
import { STAGES } from '../../domain/modelTypes';
import { modelUri } from '../../ui/modelProtocol';
import type { TrackingService } from '../backend/trackingService';
import { guarded } from '../commands/guard';
import type { ModelNode, ModelsTree } from '../tree/modelsTree';
import type { ViewPanels } from '../webviews/viewPanels';
import { modelVersionUri } from './modelDocument';

interface VersionTarget {
  name: string;
  version: string;
  aliases: string[];
}

/** A version from a tree node or a `{ name, version }` argument. */
function versionOf(arg: unknown): VersionTarget | undefined {
  const node = arg as Partial<Extract<ModelNode, { type: 'version' }>> | undefined;
  if (node?.type === 'version' && node.version) return { name: node.version.name, version: node.version.version, aliases: node.aliases ?? [] };
  const plain = arg as { name?: unknown; version?: unknown; aliases?: unknown } | undefined;
  if (typeof plain?.name === 'string' && (typeof plain.version === 'string' || typeof plain.version === 'number')) {
    return { name: plain.name, version: String(plain.version), aliases: Array.isArray(plain.aliases) ? plain.aliases.map(String) : [] };
  }
  return undefined;
}

function modelNameOf(arg: unknown): string | undefined {
  const node = arg as Partial<Extract<ModelNode, { type: 'model' }>> | undefined;
  if (node?.type === 'model' && node.model) return node.model.name;
  return versionOf(arg)?.name ?? (typeof (arg as { name?: unknown })?.name === 'string' ? (arg as { name: string }).name : undefined);
}

function required<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`Pick a ${what} in the Models view.`);
  return v;
}

const ALIAS = /^[A-Za-z0-9_-]+$/;

export function registerModelCommands(context: vscode.ExtensionContext, service: TrackingService, tree: ModelsTree, views: ViewPanels, log: Logger): void {
  const reg = (id: string, title: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, title, fn)));
  };
  const client = async (): Promise<ModelsClient> => {
    await service.ready();
    return new ModelsClient(service.client);
  };
  const changed = (): void => tree.refresh();

  reg('runlens.openModelVersion', 'Open Model Version', async (arg) => {
    const v = required(versionOf(arg), 'model version');
    views.showModel(v.name, v.version);
  });

  reg('runlens.openRegisteredModel', 'Open Registered Model', async (arg) => {
    views.showModel(required(modelNameOf(arg), 'registered model'), undefined);
  });

  reg('runlens.transitionModelVersionStage', 'Transition Stage', async (arg, _selection, value) => {
    const v = required(versionOf(arg), 'model version');
    const stage =
      typeof value === 'string'
        ? value
        : (await vscode.window.showQuickPick(
            STAGES.map((s) => s),
            { title: `Transition ${v.name} v${v.version} to stage` },
          ));
    if (!stage) return undefined;
    let archive = false;
    if (typeof value !== 'string' && (stage === 'Staging' || stage === 'Production')) {
      const pick = await vscode.window.showQuickPick(['Keep other versions in their stage', `Archive other ${stage} versions`], { title: `Other versions in ${stage}` });
      if (!pick) return undefined;
      archive = pick.startsWith('Archive');
    }
    const updated = await (await client()).transitionStage(v.name, v.version, stage, archive);
    changed();
    return updated.current_stage;
  });

  reg('runlens.setModelVersionAlias', 'Set Alias', async (arg, _selection, value) => {
    const v = required(versionOf(arg), 'model version');
    const alias =
      typeof value === 'string'
        ? value
        : await vscode.window.showInputBox({
            title: `Alias for ${v.name} v${v.version}`,
            prompt: `Points models:/${v.name}@<alias> at this version (moved from another version if it has it).`,
            placeHolder: 'champion',
            validateInput: (s) => (ALIAS.test(s) ? undefined : 'Letters, digits, - and _ only.'),
          });
    if (!alias) return undefined;
    await (await client()).setAlias(v.name, alias, v.version);
    changed();
    return alias;
  });

  reg('runlens.removeModelVersionAlias', 'Remove Alias', async (arg, _selection, value) => {
    const v = required(versionOf(arg), 'model version');
    const aliases = v.aliases.length ? v.aliases : ((await (await client()).getModelVersion(v.name, v.version)).aliases ?? []);
    if (typeof value !== 'string' && aliases.length === 0) {
      void vscode.window.showInformationMessage(`Runlens: ${v.name} v${v.version} has no alias.`);
      return undefined;
    }
    const alias = typeof value === 'string' ? value : aliases.length === 1 ? aliases[0] : await vscode.window.showQuickPick(aliases, { title: `Remove an alias of ${v.name} v${v.version}` });
    if (!alias) return undefined;
    await (await client()).deleteAlias(v.name, alias);
    changed();
    return alias;
  });

  reg('runlens.copyModelVersionUri', 'Copy models:/ URI', async (arg, _selection, value) => {
    const v = required(versionOf(arg), 'model version');
    const choices = [modelUri(v.name, v.version), ...v.aliases.map((alias) => modelUri(v.name, { alias }))];
    const uri = typeof value === 'string' ? value : choices.length === 1 ? choices[0] : await vscode.window.showQuickPick(choices, { title: 'Copy which URI?' });
    if (!uri) return undefined;
    if (!choices.includes(uri)) throw new Error(`${uri} is not a URI of ${v.name} v${v.version}.`);
    await vscode.env.clipboard.writeText(uri);
    void vscode.window.setStatusBarMessage(`Runlens: copied ${uri}`, 3000);
    return uri;
  });

  reg('runlens.compareModelVersions', 'Compare Model Versions', async (arg, selection) => {
    const picked = (Array.isArray(selection) ? selection : [arg]).map(versionOf).filter((v): v is VersionTarget => v !== undefined);
    let [a, b] = picked;
    a = required(a, 'model version');
    if (!b) {
      const others = (await service.client.listModelVersions(a.name)).filter((v) => v.version !== a!.version);
      if (others.length === 0) throw new Error(`${a.name} has no other version to compare with.`);
      const pick = await vscode.window.showQuickPick(
        others.map((v) => ({ label: `Version ${v.version}`, description: [v.current_stage !== 'None' ? v.current_stage : '', ...(v.aliases ?? []).map((x) => `@${x}`)].filter(Boolean).join(' · '), version: v.version })),
        { title: `Compare ${a.name} v${a.version} with` },
      );
      if (!pick) return undefined;
      b = { name: a.name, version: pick.version, aliases: [] };
    }
    const [older, newer] = Number(a.version) <= Number(b.version) || a.name !== b.name ? [a, b] : [b, a];
    await vscode.commands.executeCommand('vscode.diff', modelVersionUri(older.name, older.version), modelVersionUri(newer.name, newer.version), `${older.name} v${older.version} ↔ ${newer.name} v${newer.version}`);
    return [older.version, newer.version];
  });

  reg('runlens.deleteModelVersion', 'Delete Model Version', async (arg, _selection, confirmed) => {
    const v = required(versionOf(arg), 'model version');
    if (confirmed !== true) {
      const ok = await vscode.window.showWarningMessage(`Delete ${v.name} version ${v.version}? Its aliases go with it; the run and its files stay.`, { modal: true }, 'Delete');
      if (ok !== 'Delete') return false;
    }
    await (await client()).deleteModelVersion(v.name, v.version);
    changed();
    return true;
  });
}
