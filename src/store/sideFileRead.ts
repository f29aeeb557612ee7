/**
 * A side file as the store's next start would leave it, read without opening the store (the
 * `runlens audit` commands on a store that was killed and not started since): the file's bytes
 * plus whatever journaled appends it lacks (see sideFiles.ts). Changes no file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJournal } from './journal';
import { Persistence } from './persistence';
import { isSideAppend, placement } from './sideFiles';
import { journalName, listGens } from './storeLoad';

export function readSideFileWithJournal(root: string, rel: string): Buffer | undefined {
  const full = path.join(root, rel);
  let data: Buffer | undefined = fs.existsSync(full) ? fs.readFileSync(full) : undefined;
  const journalDir = path.join(Persistence.stateDir(root), 'journal');
  if (!fs.existsSync(journalDir)) return data;
  for (const gen of listGens(journalDir)) {
    for (const rec of readJournal(path.join(journalDir, journalName(gen))).records) {
      if (!isSideAppend(rec) || rec.file !== rel) continue;
      const bytes = Buffer.from(rec.text);
      const cur = data ?? Buffer.alloc(0);
      const there = cur.subarray(Math.min(rec.at, cur.length), Math.min(cur.length, rec.at + bytes.length));
      if (placement(there, bytes) !== 'missing') continue;
      const next = Buffer.alloc(Math.max(cur.length, rec.at + bytes.length));
      cur.copy(next);
      bytes.copy(next, rec.at);
      data = next;
    }
  }
  return data;
}
