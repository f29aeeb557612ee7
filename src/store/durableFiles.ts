/** The fsync steps that make a store write durable (the OS may otherwise hold it in its cache). */
import * as fs from 'node:fs';

/** Makes a rename or unlink in `dir` durable (POSIX: the directory entry needs its own fsync). */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `file` (`a`: appended, `w`: replacing it) and resolves once it is fsynced. */
export async function writeSynced(file: string, flags: 'a' | 'w', data: Uint8Array): Promise<void> {
  const fh = await fs.promises.open(file, flags);
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
