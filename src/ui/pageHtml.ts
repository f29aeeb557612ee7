/**
 * The HTML shell of a Runlens view, shared by VS Code webviews and `runlens serve`'s browser
 * pages: a strict Content-Security-Policy (scripts only with the page's nonce, nothing remote),
 * the view's ES module (its imports of shared chunks inherit the nonce), its stylesheet, and the
 * initial state as inert JSON.
 */
export interface PageOptions {
  title: string;
  nonce: string;
  /** Where scripts, styles and fonts may come from: the webview's cspSource, or 'self' in a browser. */
  source: string;
  /** What fetch/EventSource may reach: 'none' in VS Code (postMessage only), 'self' in a browser. */
  connect: string;
  scriptUri: string;
  /** The view's chunks (dist/webview/preload.json), fetched in parallel with its module. */
  preloadUris?: string[];
  styleUris: string[];
  state: unknown;
  bodyClass?: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function contentSecurityPolicy(o: Pick<PageOptions, 'nonce' | 'source' | 'connect'>): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.source}`,
    `font-src ${o.source}`,
    `img-src ${o.source} data: blob:`,
    `connect-src ${o.connect}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderPage(o: PageOptions): string {
  const state = JSON.stringify(o.state).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
${o.styleUris.map((u) => `<link rel="stylesheet" href="${escapeHtml(u)}">`).join('\n')}
${(o.preloadUris ?? []).map((u) => `<link rel="modulepreload" nonce="${escapeHtml(o.nonce)}" href="${escapeHtml(u)}">`).join('\n')}
</head>
<body class="${escapeHtml(o.bodyClass ?? '')}">
<div id="app"></div>
<script type="application/json" id="runlens-state">${state}</script>
<script type="module" nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** A view's chunk files from the build's preload manifest (its text); none if it is missing or malformed. */
export function viewPreloads(manifest: string | undefined, view: string): string[] {
  try {
    const all = JSON.parse(manifest ?? '{}') as Record<string, unknown>;
    const files = all[view];
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string' && /^[A-Za-z0-9._-]+\.js$/.test(f)) : [];
  } catch {
    return [];
  }
}
