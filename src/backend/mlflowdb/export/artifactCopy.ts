/** Copies a run's or logged model's artifact directory into the export's artifact folder. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Copies every file under `from` to the same relative path under `to`; returns the file count.
 * Symlinks are not followed out of `from` (an artifact is a file the store holds), and an
 * existing file in `to` is an error unless `overwrite`, so two sources never silently merge.
 */
export async function copyArtifactTree(from: string, to: string, overwrite: boolean): Promise<number> {
  let files = 0;
  const walk = async (rel: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(path.join(from, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return; // nothing logged
      throw err;
    }
    for (const e of entries) {
      const child = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        await walk(child);
      } else if (e.isFile()) {
        const target = path.join(to, child);
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        await fs.promises.copyFile(path.join(from, child), target, overwrite ? 0 : fs.constants.COPYFILE_EXCL);
        files++;
      }
    }
  };
  await walk('');
  return files;
}
