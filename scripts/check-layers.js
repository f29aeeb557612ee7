#!/usr/bin/env node
// The import rules of the target layout (ARCHITECTURE.md, "Target layout"), checked on the code:
// every .ts file under src/ and webview/ belongs to a layer, imports only the layers its layer may
// import, and no files import each other in a loop. `npm run check:layers`; part of `npm test`.
// Imports are read with TypeScript's own pre-processor (import, import type, export from, import(),
// require), so code inside template strings is not mistaken for an import.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');
const ts = require('typescript');

/** Path prefix (from the repository root) → layer; the first match wins. */
const LAYERS = [
  ['src/domain/', 'domain'],
  ['src/governance/', 'governance'],
  ['src/filter/', 'filter'],
  ['src/languageServer/', 'languageServer'],
  ['src/backend/api/', 'api'],
  ['src/backend/', 'backend'],
  ['src/store/', 'local'],
  ['src/client/', 'client'],
  ['src/serverIpc/', 'ipc'],
  ['src/server/', 'server'],
  ['src/ui/', 'ui'],
  ['src/extension/', 'extension'],
  ['src/cli.ts', 'cli'],
  ['src/cliLoader.ts', 'cli'],
  ['src/cliImport.ts', 'cli'],
  ['src/cliExport.ts', 'cli'],
  ['src/cliGovernance.ts', 'cli'],
  ['src/cliPublish.ts', 'cli'],
  ['webview/', 'webview'],
];

/** What each layer may import (besides itself). */
const MAY_IMPORT = {
  domain: [],
  // The MLflow filter languages: one recovering parser (AST + diagnostics with ranges) and the
  // per-search vocabularies as data. Pure and browser-safe, so the search compilers, the views'
  // filter boxes, the explorer and the language server parse alike and never disagree.
  filter: ['domain'],
  api: ['domain'],
  // The local store (journal, sql.js, series, artifacts, traces).
  local: ['api', 'domain', 'filter'],
  // Other backends (readers of MLflow's stores, import/export): never the server or the UI.
  backend: ['api', 'domain', 'local', 'client'],
  // A decorator over any backend: budgets, policies, the cost ledger and the audit trail.
  governance: ['api', 'domain'],
  client: ['domain'],
  // The messages between the extension and the server process it forks.
  ipc: ['domain'],
  // The server also hosts the views' browser build: the page shell and a view's initial state.
  server: ['api', 'domain', 'ui', 'filter'],
  ui: ['client', 'domain', 'filter'],
  extension: ['ui', 'client', 'domain', 'api', 'ipc', 'filter'],
  // The filter language server (its own process): reads the store only over REST.
  languageServer: ['filter', 'client', 'domain'],
  cli: [],
  webview: ['ui', 'client', 'domain', 'filter'],
};

/** Files that assemble a running program: they may import any layer (the server or the local store). */
const COMPOSITION_ROOTS = new Set(['src/cli.ts', 'src/cliImport.ts', 'src/cliExport.ts', 'src/cliGovernance.ts', 'src/cliPublish.ts', 'src/serverIpc/childSide.ts', 'src/server/serve.ts', 'src/extension/backend/startOrAttach.ts', 'src/extension/sources/localStores.ts']);

/**
 * Local-store modules the server still uses, each a node-side helper with MLflow's semantics
 * rather than store state; they move out of src/store/ when their node dependency does.
 */
const SHARED_WITH_SERVER = new Set([
  'src/store/limits.ts', // MLflow's validation limits (node:path for key normalisation)
  'src/store/artifacts/artifactPaths.ts', // MLflow's request-path validation (node:fs, node:path)
  'src/store/artifacts/contentTypes.ts', // MLflow's download content types (reads the system mime table)
  'src/store/durableFiles.ts', // isDiskFull, to answer a full disk as MLflow's error
]);

/**
 * The store's lock file is the protocol between the processes that may own a store: the
 * extension reads it (who serves this store, is that process alive) to attach or take over.
 */
const SHARED_WITH_EXTENSION = new Set(['src/store/storeLock.ts']);

/**
 * The journal writer is a durable append-only file (group commit, preallocated, every byte
 * fdatasynced before an append resolves) with no store state; the audit trail writes through it.
 */
const SHARED_WITH_GOVERNANCE = new Set(['src/store/journal.ts']);

/** Layers whose code must run in a browser: no Node built-ins, here or in anything they reach. */
const BROWSER_SAFE = new Set(['domain', 'filter', 'ui', 'webview']);
/** Layers that import no npm package (only the Node built-ins listed). */
const NO_PACKAGES = { domain: [], filter: [], api: ['node:stream'] };

function layerOf(rel) {
  for (const [prefix, layer] of LAYERS) if (rel === prefix || rel.startsWith(prefix)) return layer;
  return undefined;
}

function listTs(root, dir) {
  const out = [];
  const walk = (abs) => {
    if (!fs.existsSync(abs)) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(abs, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(path.join(root, dir));
  return out;
}

function isBuiltin(spec) {
  return spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);
}

/** The repository file a relative specifier names, or undefined when it is no .ts file of the tree. */
function resolve(root, fromRel, spec) {
  const base = path.resolve(root, path.dirname(fromRel), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return path.relative(root, candidate).split(path.sep).join('/');
  }
  return undefined;
}

/** Every import of one file: { spec, target? (a tree file), builtin, line }. */
function importsOf(root, rel) {
  const text = fs.readFileSync(path.join(root, rel), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => {
    const spec = f.fileName;
    const line = text.slice(0, f.pos).split('\n').length;
    if (spec.startsWith('.')) return { spec, target: resolve(root, rel, spec), builtin: false, line };
    return { spec, builtin: isBuiltin(spec), line };
  });
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** Checks the tree under `root`; returns the violations as sentences (empty when all rules hold). */
function checkLayers(root) {
  const files = [...listTs(root, 'src'), ...listTs(root, 'webview')];
  const problems = [];
  const graph = new Map();
  const imports = new Map();
  for (const rel of files) {
    const list = importsOf(root, rel);
    imports.set(rel, list);
    graph.set(rel, new Set(list.filter((i) => i.target).map((i) => i.target)));
  }
  for (const rel of files) {
    const layer = layerOf(rel);
    if (!layer) {
      problems.push(`${rel}: belongs to no layer (add its folder to LAYERS in scripts/check-layers.js, with what it may import)`);
      continue;
    }
    const root_ = COMPOSITION_ROOTS.has(rel);
    for (const imp of imports.get(rel)) {
      const at = `${rel}:${imp.line}`;
      if (!imp.spec.startsWith('.')) {
        if (!(layer in NO_PACKAGES)) {
          if (imp.builtin && BROWSER_SAFE.has(layer)) problems.push(`${at} imports '${imp.spec}': ${layer}/ code runs in a browser, so it imports no Node built-in`);
          continue;
        }
        if (!NO_PACKAGES[layer].includes(imp.spec)) problems.push(`${at} imports '${imp.spec}': ${layer}/ imports no package or Node built-in${NO_PACKAGES[layer].length ? ` (except ${NO_PACKAGES[layer].join(', ')})` : ''}`);
        continue;
      }
      if (!imp.target) continue; // not a .ts file of the tree (package.json, a missing file: tsc reports that)
      const to = layerOf(imp.target);
      if (to === layer || root_) continue;
      if (to && MAY_IMPORT[layer].includes(to)) continue;
      if (layer === 'server' && SHARED_WITH_SERVER.has(imp.target)) continue;
      if ((layer === 'extension' || layer === 'ipc') && SHARED_WITH_EXTENSION.has(imp.target)) continue;
      if (layer === 'governance' && SHARED_WITH_GOVERNANCE.has(imp.target)) continue;
      const allowed = [layer, ...MAY_IMPORT[layer]].join(', ');
      problems.push(`${at} imports ${imp.target}: ${layer}/ may import ${allowed}, not ${to ?? 'an unlayered file'}${to === 'local' || to === 'server' ? ` (only a composition root may: ${[...COMPOSITION_ROOTS].join(', ')})` : ''}`);
    }
  }
  // Browser-safe layers: nothing they reach imports a Node built-in.
  for (const rel of files) {
    if (!BROWSER_SAFE.has(layerOf(rel))) continue;
    const seen = new Map([[rel, undefined]]);
    const queue = [rel];
    while (queue.length) {
      const cur = queue.shift();
      for (const imp of imports.get(cur) ?? []) {
        if (imp.builtin && cur !== rel && !BROWSER_SAFE.has(layerOf(cur))) {
          const chain = [cur];
          for (let p = seen.get(cur); p !== undefined; p = seen.get(p)) chain.unshift(p);
          problems.push(`${rel} reaches '${imp.spec}' through ${chain.join(' -> ')}: ${layerOf(rel)}/ code runs in a browser`);
        }
        if (imp.target && !seen.has(imp.target)) {
          seen.set(imp.target, cur);
          queue.push(imp.target);
        }
      }
    }
  }
  for (const scc of cycles(graph)) {
    const inside = new Set(scc);
    const edges = scc.flatMap((a) => [...graph.get(a)].filter((b) => inside.has(b)).map((b) => `${a} -> ${b}`));
    problems.push(`import cycle of ${scc.length} file(s): ${edges.join('; ')}`);
  }
  return { files: files.length, problems };
}

module.exports = { checkLayers, LAYERS, MAY_IMPORT, COMPOSITION_ROOTS, SHARED_WITH_SERVER };

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
  const { files, problems } = checkLayers(root);
  if (problems.length) {
    console.error(`layer rules: ${problems.length} violation(s) in ${files} files (rules: scripts/check-layers.js, ARCHITECTURE.md "Target layout")`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`layer rules: ${files} files, every import within its layer's rules, no import cycles`);
}
