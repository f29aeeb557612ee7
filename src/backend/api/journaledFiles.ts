/**
 * Files a backend keeps durable through its own write-ahead journal (the local Runlens store
 * does; other backends have none). An append costs no sync of its own: it shares the journal's
 * group commit with the store's writes of the same moment. Used for the governed audit trail, so
 * a governed write waits for one fdatasync, not one for the store and one for the trail.
 */
export interface JournaledFile {
  /** Bytes in the file, counting appends journaled but not yet durable. */
  size(): number;
  /**
   * Appends `text` (UTF-8) at the end, in call order. Resolves once it is durable (in the journal,
   * and written into the file); rejects with nothing kept when it cannot be.
   */
  append(text: string): Promise<void>;
  /**
   * Moves whenever appends not yet durable were dropped (a failed write): a writer that chains
   * its appends starts again from its last durable one when it sees this change.
   */
  epoch(): number;
  /** Cuts the file to `size` bytes, durably (a torn tail found at open, never acknowledged); nothing may be in flight. */
  cutTo(size: number): Promise<void>;
  /** Whether the store refuses writes now (a failed write, a full disk): its writes will fail. */
  refusing(): boolean;
}

export interface JournaledFiles {
  /** The file at `relPath` under the store root (created on first use). */
  journaledFile(relPath: string): JournaledFile;
}
