// The backend contract on a read-only view of an mlflow.db: the fixture is seeded into a local
// store through the interface, written out by `runlens export`'s writer as MLflow's own schema,
// and opened as the view `runlens serve --root mlflow.db` serves (readers, mirror, lazy
// histories, in-place artifacts). The read half must answer as the local store does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendCapabilities } from '../../../src/backend/api/capabilities';
import { exportToMlflowDb } from '../../../src/backend/mlflowdb/export/exportToDb';
import { describeTarget, importHintFor, openBackend } from '../../../src/backend/open';
import { StoreSource } from '../../../src/backend/transfer/storeSource';
import { MemoryLogger, openStore, tempRoot } from '../helpers';
import { describeBackendContract } from './backendContract';
import { seedThroughInterface } from './fixture';

// Filled in once the file exists: the view names its path.
const capabilities: { -readonly [K in keyof BackendCapabilities]: BackendCapabilities[K] } = { readOnly: true };

describeBackendContract({
  name: 'read-only view of an mlflow.db (written by the export)',
  capabilities,
  async open(fixture) {
    const root = tempRoot('runlens-contract-view-');
    const seeded = await openStore(path.join(root, 'store'));
    await seedThroughInterface(seeded, fixture);
    const file = path.join(root, 'mlflow.db');
    await exportToMlflowDb(new StoreSource(seeded, 'the contract fixture'), { file, artifactsDir: path.join(root, 'mlartifacts') });
    await seeded.close({ checkpoint: false });
    const target = { kind: 'mlflow.db' as const, path: file };
    capabilities.description = describeTarget(target);
    capabilities.importHint = importHintFor(file);
    const opened = await openBackend(target, { log: new MemoryLogger(), watch: false });
    return {
      store: opened.backend,
      async close() {
        await opened.close();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
