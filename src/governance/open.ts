/** Reading a governance file and opening its state beside the store it governs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrackingStore } from '../backend/api/tracking';
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
}

export async function governStore(store: TrackingStore, opts: OpenGovernanceOptions): Promise<{ store: GovernedStore; governance: Governance }> {
  const governance = await Governance.open({ config: opts.config, dir: governanceDir(opts.storeRoot), log: opts.log, sink: opts.sink });
  return { store: governed(store, governance), governance };
}
