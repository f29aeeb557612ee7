/**
 * Where a runs table's layout lives: the webview state (a reload of the panel) and the host's
 * per-experiment prefs (a panel opened again later, or the page reopened in a browser), plus the
 * user's named views. What the opener passed explicitly (the sidebar's filter and sort) wins.
 */
import { runsTablePrefsKey, type RunsTableLayout, type RunsTablePrefs, type RunsTableState, type SavedTableView } from '../../src/ui/protocol';
import type { Transport } from '../transport';

const LAYOUT_KEYS = ['filter', 'orderBy', 'columns', 'widths', 'groupBy'] as const;

type LayoutKey = (typeof LAYOUT_KEYS)[number];

function copyField<K extends LayoutKey>(to: RunsTableLayout, from: RunsTableLayout, k: K): void {
  if (from[k] !== undefined) to[k] = structuredClone(from[k]);
}

function layoutOf(from: RunsTableLayout): RunsTableLayout {
  const out: RunsTableLayout = {};
  for (const k of LAYOUT_KEYS) copyField(out, from, k);
  return out;
}

const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
/** Prefs come from storage another version may have written: keep only fields of the right shape. */
const VALID: Record<LayoutKey, (v: unknown) => boolean> = {
  filter: (v) => typeof v === 'string',
  orderBy: strings,
  columns: strings,
  widths: (v) => typeof v === 'object' && v !== null && Object.values(v).every((w) => typeof w === 'number'),
  groupBy: (v) => typeof v === 'string',
};

function isPrefs(v: unknown): v is RunsTablePrefs {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const rec = v as Record<string, unknown>;
  for (const k of LAYOUT_KEYS) if (rec[k] !== undefined && !VALID[k](rec[k])) delete rec[k];
  return true;
}

export class TablePrefs {
  views: SavedTableView[] = [];
  private readonly key: string;

  constructor(
    private readonly transport: Transport,
    private readonly state: RunsTableState,
  ) {
    this.key = runsTablePrefsKey(state.experimentIds);
  }

  /** Fills in what `opened` (the state the panel started with) left unset from the saved prefs. */
  async restore(opened: RunsTableState): Promise<void> {
    let saved: unknown;
    try {
      saved = await this.transport.call({ kind: 'getPrefs', key: this.key });
    } catch {
      saved = undefined; // a host without prefs: start from the defaults
    }
    if (!isPrefs(saved)) return;
    const legacyGroup = opened.groupChildren !== undefined;
    for (const k of LAYOUT_KEYS) {
      if (opened[k] !== undefined || (k === 'groupBy' && legacyGroup)) continue;
      copyField(this.state, saved, k);
    }
    this.views = Array.isArray(saved.views) ? saved.views.filter((v) => typeof v?.name === 'string') : [];
  }

  /** Keeps the current layout in the webview state and in the host's prefs. */
  save(): void {
    this.transport.saveState(this.state);
    const value: RunsTablePrefs = { ...layoutOf(this.state), views: this.views };
    this.transport.call({ kind: 'setPrefs', key: this.key, value }).catch(() => undefined);
  }

  saveView(name: string): void {
    this.views = [...this.views.filter((v) => v.name !== name), { name, ...layoutOf(this.state) }];
    this.save();
  }

  removeView(name: string): void {
    this.views = this.views.filter((v) => v.name !== name);
    this.save();
  }

  /** Makes a saved view the current layout (what it does not set goes back to the default). */
  apply(view: SavedTableView): void {
    for (const k of LAYOUT_KEYS) delete this.state[k];
    Object.assign(this.state, { filter: '', orderBy: ['attributes.start_time DESC'], groupBy: 'parent' }, layoutOf(view));
    this.save();
  }
}
