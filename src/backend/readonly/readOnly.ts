/**
 * Read-only access to a backend concern: reads go to the current target, writes are refused.
 *
 * Each concern lists its methods as reads or writes; the `Exhaustive` check makes the compiler
 * reject a list that misses a method, so a method added to an interface later cannot slip
 * through a read-only view as an unguarded write.
 */
import { MlflowError } from '../../domain/errors';

/** The refusal every write to a read-only store gets: not retried by the client (403), says how to write. */
export class ReadOnlyStoreError extends MlflowError {
  constructor(description: string, importHint: string) {
    super('INVALID_STATE', `This tracking store is read-only: ${description} is served as it is, so writes are refused. ${importHint}`);
  }
  override get httpStatus(): number {
    return 403;
  }
}

type MethodKeys<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/** `true` only when `Reads` and `Writes` together name every method of `T`. */
export type Exhaustive<T, Reads extends MethodKeys<T>, Writes extends MethodKeys<T>> = [Exclude<MethodKeys<T>, Reads | Writes>] extends [never] ? true : Exclude<MethodKeys<T>, Reads | Writes>;

export function readOnlyConcern<T extends object, R extends MethodKeys<T>, W extends MethodKeys<T>>(
  target: () => T,
  reads: readonly R[],
  writes: readonly W[],
  refuse: () => Error,
  extra: Partial<T> = {},
): T {
  const out: Record<string, unknown> = {};
  for (const name of reads) {
    out[name as string] = (...args: unknown[]): unknown => {
      const t = target();
      return (t[name] as (...a: unknown[]) => unknown).apply(t, args);
    };
  }
  for (const name of writes) out[name as string] = (): Promise<never> => Promise.reject(refuse());
  // Reads a caller answers itself (e.g. with ids translated) replace the plain delegation.
  Object.assign(out, extra);
  // Sound by construction: every method of T is in `reads` or `writes` (checked by callers with Exhaustive).
  return out as unknown as T;
}
