/** Reading a governance file and opening its state beside the store it governs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JournaledFiles } from '../backend/api/journaledFiles';
import type { TrackingStore } from '../backend/api/tracking';
import { AUDIT_FILE } from './auditLog';
import type { Logger } from '../domain/logger';
import { parseGovernanceConfig, type GovernanceConfig } from './config';
import { Governance, type OperationSink } from './governance';
import { governed, type GovernedStore } from './governed';

/** Where a store's audit trail lives: inside the store folder, beside its journal. */
export function governanceDir(storeRoot: string): string {
  return path.join(storeRoot, '.governance');
}

export function readGovernanceFile(file: string): GovernanceConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the governance file ${file}: ${(err as Error).message}`);
  }
  return parseGovernanceConfig(text, file);
}

export interface OpenGovernanceOptions {
  config: GovernanceConfig;
  storeRoot: string;
  log: Logger;
  /** Builds the OpenTelemetry sink when the config enables it (kept out so tests can pass one). */
  sink?: OperationSink | undefined;
  /** The store's journaled files (the local store's): the trail's entries then ride in its journal. */
  journaled?: JournaledFiles | undefined;
}

export async function governStore(store: TrackingStore, opts: OpenGovernanceOptions): Promise<{ store: GovernedStore; governance: Governance }> {
  const dir = governanceDir(opts.storeRoot);
  const journaled = opts.journaled?.journaledFile(path.relative(opts.storeRoot, path.join(dir, AUDIT_FILE)));
  const governance = await Governance.open({ config: opts.config, dir, log: opts.log, sink: opts.sink, journaled });
  return { store: governed(store, governance), governance };
}
