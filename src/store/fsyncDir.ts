/** Makes a rename or unlink in `dir` durable (POSIX: the directory entry needs its own fsync). */
import * as fs from 'node:fs';

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
