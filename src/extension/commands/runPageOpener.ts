/**
 * How runs open from the explorer, as VS Code's preview editors work: a single click previews the
 * run page beside the user's focus (the tree keeps it, so arrow keys still move in the tree) and
 * replaces the previous preview; a double click, Enter or "Open Run" opens it focused and keeps it.
 * A run already open is revealed, never opened twice.
 */
import type * as vscode from 'vscode';
import type { ViewPanels } from '../webviews/viewPanels';

/** Two clicks on one run within this time are a double click (VS Code fires the item's command per click). */
export const DOUBLE_CLICK_MS = 500;

export class RunPageOpener {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private preview: { key: string; panel: vscode.WebviewPanel } | undefined;
  private lastClick = { key: '', at: 0 };

  constructor(private readonly views: ViewPanels) {}

  /** Opens (or reveals) a run page; `preserveFocus` makes it the one preview. */
  open(runId: string, title: string, source: string | undefined, preserveFocus: boolean): vscode.WebviewPanel {
    const key = `${source ?? ''}|${runId}`;
    const existing = this.panels.get(key);
    if (existing) {
      existing.reveal(undefined, preserveFocus);
      if (!preserveFocus && this.preview?.key === key) this.preview = undefined;
      return existing;
    }
    const replaced = preserveFocus ? this.preview?.panel : undefined;
    const panel = this.views.show('run', { runId }, title, source, preserveFocus);
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
      if (this.preview?.panel === panel) this.preview = undefined;
    });
    if (preserveFocus) this.preview = { key, panel };
    // Closed after the new one is shown, so the editor group does not flash empty.
    replaced?.dispose();
    return panel;
  }

  /** A click on a run in the tree: a preview, or the run opened for good on a double click. */
  click(runId: string, title: string, source: string | undefined, now = Date.now()): vscode.WebviewPanel {
    const key = `${source ?? ''}|${runId}`;
    const double = this.lastClick.key === key && now - this.lastClick.at < DOUBLE_CLICK_MS;
    this.lastClick = double ? { key: '', at: 0 } : { key, at: now };
    return this.open(runId, title, source, !double);
  }
}
