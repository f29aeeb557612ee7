// The backend contract on the local Runlens store: the fixture seeded through the interface.
import * as fs from 'node:fs';
import { FULL_CAPABILITIES } from '../../../src/backend/api/capabilities';
import { openStore, tempRoot } from '../helpers';
import { describeBackendContract } from './backendContract';
import { seedThroughInterface } from './fixture';

describeBackendContract({
  name: 'local store (sql.js + journal)',
  capabilities: FULL_CAPABILITIES,
  async open(fixture) {
    const root = tempRoot('runlens-contract-');
    const store = await openStore(root);
    await seedThroughInterface(store, fixture);
    return {
      store,
      async close() {
        await store.close({ checkpoint: false });
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
