// Bundles the CLI and the extension into dist/, and ships sql.js's WASM beside them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');

mkdirSync('dist/webview', { recursive: true });
copyFileSync(join(dirname(require.resolve('sql.js')), 'sql-wasm.wasm'), 'dist/sql-wasm.wasm');
// Views load only from dist/webview (the webview's localResourceRoots and the server's /runlens/ui/).
for (const css of ['webview.css', 'browser-themes.css']) copyFileSync(join('media', css), join('dist/webview', css));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: { cli: 'src/cli.ts' }, banner: { js: '#!/usr/bin/env node' } }),
  // `vscode` is provided by the extension host at run time.
  build({ ...common, entryPoints: { extension: 'src/extension/extension.ts' }, external: ['vscode'] }),
  // The filter language server: its own Node process, started by the extension over stdio.
  build({ ...common, entryPoints: { languageServer: 'src/languageServer/main.ts' } }),
  // Views: one browser bundle per panel, the same file in VS Code webviews and in a browser.
  build({ ...common, platform: 'browser', format: 'iife', target: 'es2022', outdir: 'dist/webview', entryPoints: { charts: 'webview/charts/main.ts', runs: 'webview/runs/main.ts', run: 'webview/run/main.ts', compare: 'webview/compare/main.ts', traces: 'webview/traces/main.ts', trace: 'webview/trace/main.ts', datasets: 'webview/datasets/main.ts' }, sourcemap: false, minify: true }),
]);
