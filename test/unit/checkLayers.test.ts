// The import-rule checker (scripts/check-layers.js) on small trees made here: it must pass a tree
// that keeps the rules and name each import that breaks one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempRoot } from './helpers';

interface LayerCheck {
  checkLayers(root: string): { files: number; problems: string[] };
}
// A plain Node script (it runs before any build), so it is loaded as one.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkLayers } = require(path.resolve(__dirname, '../../../scripts/check-layers.js')) as LayerCheck;

function tree(files: Record<string, string>): string {
  const root = tempRoot('runlens-layers-');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const CLEAN: Record<string, string> = {
  'src/domain/types.ts': 'export interface Run { id: string }\n',
  'src/backend/api/tracking.ts': "import type { Run } from '../../domain/types';\nimport type { Readable } from 'node:stream';\nexport interface TrackingStore { getRun(id: string): Promise<Run>; open(): Readable }\n",
  'src/store/localStore.ts': "import * as fs from 'node:fs';\nimport type { TrackingStore } from '../backend/api/tracking';\nexport const store: Partial<TrackingStore> = {};\nexport const exists = fs.existsSync;\n",
  'src/store/limits.ts': 'export const MAX = 1;\n',
  'src/server/handlers/runs.ts': "import type { TrackingStore } from '../../backend/api/tracking';\nimport { MAX } from '../../store/limits';\nexport const f = (s: TrackingStore) => s.getRun(String(MAX));\n",
  'src/server/serve.ts': "import { store } from '../store/localStore';\nexport const s = store;\n",
  'src/client/trackingClient.ts': "import type { Run } from '../domain/types';\nexport const get = (): Run | undefined => undefined;\n",
  'src/ui/uiBackend.ts': "import { get } from '../client/trackingClient';\nexport const b = get;\n",
  'webview/main.ts': "import { b } from '../src/ui/uiBackend';\nconst t = `import { x } from '../src/store/localStore';`;\nexport const m = [b, t];\n",
  'src/cli.ts': "import { s } from './server/serve';\nimport { store } from './store/localStore';\nexport const c = [s, store];\n",
};

describe('layer rules (scripts/check-layers.js)', () => {
  it('passes a tree that keeps every rule (composition roots, shared helpers and template strings included)', () => {
    const { files, problems } = checkLayers(tree(CLEAN));
    assert.deepEqual(problems, []);
    assert.equal(files, Object.keys(CLEAN).length);
  });

  it('names a handler that imports the concrete local store, and the root that may', () => {
    const { problems } = checkLayers(tree({ ...CLEAN, 'src/server/handlers/bad.ts': "import { store } from '../../store/localStore';\nexport const x = store;\n" }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^src\/server\/handlers\/bad\.ts:1 imports src\/store\/localStore\.ts: server\/ may import server, api, domain, ui, filter, not local \(only a composition root may: src\/cli\.ts, .*src\/server\/serve\.ts/);
  });

  it('refuses concrete imports in backend/api and Node or packages in domain', () => {
    const { problems } = checkLayers(
      tree({
        ...CLEAN,
        'src/backend/api/registry.ts': "import { store } from '../../store/localStore';\nimport * as yaml from 'yaml';\nexport const r = [store, yaml];\n",
        'src/domain/paths.ts': "import * as path from 'node:path';\nexport const p = path.sep;\n",
      }),
    );
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('src/backend/api/registry.ts:1 imports src/store/localStore.ts: api/ may import api, domain, not local')));
    assert.ok(problems.some((p) => p.startsWith("src/backend/api/registry.ts:2 imports 'yaml': api/ imports no package")));
    assert.ok(problems.some((p) => p.startsWith("src/domain/paths.ts:1 imports 'node:path'")));
  });

  it('follows a view through the client to a Node built-in', () => {
    const { problems } = checkLayers(tree({ ...CLEAN, 'src/client/trackingClient.ts': "import * as http from 'node:http';\nexport const get = () => http;\n" }));
    assert.ok(problems.includes("src/ui/uiBackend.ts reaches 'node:http' through src/ui/uiBackend.ts -> src/client/trackingClient.ts: ui/ code runs in a browser"), problems.join('\n'));
    assert.ok(problems.includes("webview/main.ts reaches 'node:http' through webview/main.ts -> src/ui/uiBackend.ts -> src/client/trackingClient.ts: webview/ code runs in a browser"), problems.join('\n'));
  });

  it('reports import cycles, type-only imports included', () => {
    const { problems } = checkLayers(
      tree({
        ...CLEAN,
        'src/store/ops.ts': "import { applyModelOp } from './modelOps';\nexport type KV = [string, string];\nexport const a = applyModelOp;\n",
        'src/store/modelOps.ts': "import type { KV } from './ops';\nexport const applyModelOp = (kv: KV) => kv;\n",
      }),
    );
    assert.deepEqual(problems, ['import cycle of 2 file(s): src/store/modelOps.ts -> src/store/ops.ts; src/store/ops.ts -> src/store/modelOps.ts']);
  });

  it('wants every file in a layer, and the webview kept off the extension', () => {
    const { problems } = checkLayers(
      tree({ ...CLEAN, 'src/unplaced/budget.ts': 'export const b = 1;\n', 'src/extension/client.ts': 'export const c = 1;\n', 'webview/x.ts': "import { c } from '../src/extension/client';\nexport const x = c;\n" }),
    );
    assert.ok(problems.some((p) => p.startsWith('src/unplaced/budget.ts: belongs to no layer')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('webview/x.ts:1 imports src/extension/client.ts: webview/ may import webview, ui, client, domain, filter, not extension')), problems.join('\n'));
  });

  it('keeps the filter layer pure: domain only, no Node built-ins, usable by the language server', () => {
    const { problems } = checkLayers(
      tree({
        ...CLEAN,
        'src/filter/filterParser.ts': "import type { Run } from '../domain/types';\nimport { get } from '../client/trackingClient';\nimport * as fs from 'node:fs';\nexport const p = [get, fs] as unknown as Run;\n",
        'src/languageServer/server.ts': "import { p } from '../filter/filterParser';\nimport { get } from '../client/trackingClient';\nexport const s = [p, get];\n",
      }),
    );
    assert.deepEqual(problems.sort(), [
      "src/filter/filterParser.ts:2 imports src/client/trackingClient.ts: filter/ may import filter, domain, not client",
      "src/filter/filterParser.ts:3 imports 'node:fs': filter/ imports no package or Node built-in",
    ]);
  });
});
