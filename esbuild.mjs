// Bundles the CLI and the extension into dist/, and ships sql.js's WASM beside them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');

mkdirSync('dist', { recursive: true });
copyFileSync(join(dirname(require.resolve('sql.js')), 'sql-wasm.wasm'), 'dist/sql-wasm.wasm');

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
]);
