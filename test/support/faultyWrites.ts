/** Write faults for the safety and audit tests: short writes and ENOSPC, injected in order. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempRoot } from '../unit/helpers';

type WriteFn = (...args: unknown[]) => Promise<{ bytesWritten: number; buffer: unknown }>;

/**
 * Makes writes misbehave, FileHandle.write and fs.writeSync alike (the journal writes a small
 * group synchronously, a large one through its handle): `plan` answers each call, in order, with
 * a byte count to write, or an error.
 */
export async function withFaultyWrites<T>(plan: (call: number, wanted: number) => number | Error | undefined, fn: () => Promise<T>): Promise<T> {
  const probe = await fs.promises.open(path.join(tempRoot(), 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { write: WriteFn };
  await probe.close();
  const real = proto.write;
  // The module object itself (an `import * as` namespace only has getters): the store's calls read it.
  const nodeFs = require('node:fs') as { writeSync: typeof fs.writeSync };
  const realSync = nodeFs.writeSync;
  let call = 0;
  proto.write = function (this: unknown, ...args: unknown[]) {
    const [buf, offset, length] = args as [Uint8Array, number | undefined, number | undefined];
    const wanted = length ?? buf.length - (offset ?? 0);
    const decision = plan(call++, wanted);
    if (decision instanceof Error) return Promise.reject(decision);
    if (decision !== undefined && decision < wanted) return real.call(this, buf, offset ?? 0, decision, args[3] ?? null);
    return real.apply(this, args);
  } as WriteFn;
  const faultySync = (fd: number, buf: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number => {
    const wanted = length ?? buf.byteLength - (offset ?? 0);
    const decision = plan(call++, wanted);
    if (decision instanceof Error) throw decision;
    return realSync(fd, buf, offset ?? 0, decision !== undefined && decision < wanted ? decision : wanted, position ?? null);
  };
  nodeFs.writeSync = faultySync as typeof fs.writeSync;
  try {
    return await fn();
  } finally {
    proto.write = real;
    nodeFs.writeSync = realSync;
  }
}

