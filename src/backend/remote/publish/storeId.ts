/**
 * A store's id for publishing: a random UUID kept in `<root>/.runlens/store-id`, made on first
 * use. Run ids are already UUIDs; the store id is what tells a second publish from this store
 * (an update) from a copy of the same runs published from elsewhere (another origin).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INTERNAL_DIR } from '../../../store/artifacts/artifactPaths';

export function storeIdOf(root: string): string {
  const file = path.join(root, INTERNAL_DIR, 'store-id');
  const read = (): string | undefined => {
    try {
      const id = fs.readFileSync(file, 'utf8').trim();
      return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${crypto.randomUUID()}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // Two publishers racing: the first link wins and both read it back.
  try {
    fs.linkSync(tmp, file);
  } catch {
    // already made by the other one
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const id = read();
  if (!id) throw new Error(`cannot read the store id in ${file}`);
  return id;
}
