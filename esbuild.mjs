// Bundles the CLI and the extension into dist/, and ships sql.js's WASM beside them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');

mkdirSync('dist/webview', { recursive: true });
// Chunk names carry a content hash: drop the last build's so dist/webview holds only live ones.
for (const f of readdirSync('dist/webview')) if (f.startsWith('chunk-')) rmSync(join('dist/webview', f));
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

/**
 * Each view's chunks, static and lazy (vega), for the page to <link rel="modulepreload">: the
 * browser then fetches and compiles them in parallel with the view's own module instead of
 * discovering them one import at a time.
 */
function writePreloads(metafile) {
  const outputs = metafile.outputs;
  const name = (p) => p.slice('dist/webview/'.length);
  const preloads = {};
  for (const [file, out] of Object.entries(outputs)) {
    if (!out.entryPoint?.endsWith('/main.ts') || !file.endsWith('.js')) continue;
    const seen = new Set();
    const walk = (f) => {
      for (const i of outputs[f]?.imports ?? []) {
        if (seen.has(i.path) || !i.path.startsWith('dist/webview/')) continue;
        seen.add(i.path);
        walk(i.path);
      }
    };
    walk(file);
    preloads[name(file).replace(/\.js$/, '')] = [...seen].map(name);
  }
  writeFileSync('dist/webview/preload.json', JSON.stringify(preloads));
}

const [, , , , views] = await Promise.all([
  // dist/cli.js is a small loader that runs the CLI bundle (dist/cli-main.js) with a V8 code cache.
  build({ ...common, entryPoints: { cli: 'src/cliLoader.ts' }, banner: { js: '#!/usr/bin/env node' } }),
  // vm.Script runs it without a module loader: `import()` (ours and the dependencies') becomes require().
  build({ ...common, entryPoints: { 'cli-main': 'src/cli.ts' }, supported: { 'dynamic-import': false } }),
  // `vscode` is provided by the extension host at run time.
  build({ ...common, entryPoints: { extension: 'src/extension/extension.ts' }, external: ['vscode'] }),
  // The filter language server: its own Node process, started by the extension over stdio.
  build({ ...common, entryPoints: { languageServer: 'src/languageServer/main.ts' } }),
  // Views: one ES module per panel, the same files in VS Code webviews and in a browser. Code
  // splitting puts what views share (vega, the elements, the transport) into chunks loaded once
  // and cached, instead of a copy inside every view's bundle; the page's nonce covers the imports.
  build({
    ...common,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    target: 'es2022',
    outdir: 'dist/webview',
    entryPoints: { charts: 'webview/charts/main.ts', plots: 'webview/plots/main.ts', runs: 'webview/runs/main.ts', run: 'webview/run/main.ts', compare: 'webview/compare/main.ts', traces: 'webview/traces/main.ts', trace: 'webview/trace/main.ts', datasets: 'webview/datasets/main.ts', model: 'webview/model/main.ts', governance: 'webview/governance/main.ts' },
    sourcemap: false,
    minify: true,
    metafile: true,
  }),
]);
writePreloads(views.metafile);
