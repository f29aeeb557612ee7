/**
 * What the store's sub-stores (logged models, registry) share with LocalStore: the sql.js
 * database for reads and validation, and the one journaled write path.
 */
import type { StoreChange } from '../backend/api/changes';
import type { Op } from './ops';
import type { SqlDb } from './sqlite';

export interface StoreCore {
  readonly db: SqlDb;
  /** Applies `op` to sql.js now and resolves once its journal record is durable. */
  write(op: Op, change?: StoreChange): Promise<void>;
}
