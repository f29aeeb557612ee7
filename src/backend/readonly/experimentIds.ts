/**
 * Experiment ids as a mirrored store shows them. A legacy file store gives experiments random
 * 63-bit ids (`308344159642508548`) that a JavaScript number (and so the mirror's sql.js rows)
 * cannot hold exactly; such an id gets a local stand-in, and every id that crosses the view's
 * boundary is translated, so clients see exactly the ids MLflow shows. Ids that fit (every SQL
 * store's) are their own stand-ins.
 */
const FIRST_STAND_IN = 9_000_000_000_000_000; // below 2^53, far above any SQL store's autoincrement

export class ExperimentIds {
  private readonly localOf = new Map<string, number>();
  private readonly sourceOf = new Map<number, string>();
  /** Lossy `Number(sourceId)` → stand-in, for callers that parsed the id to a number already. */
  private readonly byRounded = new Map<number, number>();
  private next = FIRST_STAND_IN;

  /** The mirror's id for a source id, assigning a stand-in on first sight; stable across reloads. */
  local(sourceId: string): number {
    const n = Number(sourceId);
    if (Number.isSafeInteger(n) && String(n) === sourceId.trim()) return n;
    let id = this.localOf.get(sourceId);
    if (id === undefined) {
      id = this.next++;
      this.localOf.set(sourceId, id);
      this.sourceOf.set(id, sourceId);
      this.byRounded.set(n, id);
    }
    return id;
  }

  /** A request's id → the mirror's (unknown ids pass through, to fail the lookup as MLflow would). */
  toLocal(id: string): string {
    const known = this.localOf.get(id);
    return known === undefined ? id : String(known);
  }

  /** A number the server already parsed from a request (possibly rounded) → the mirror's. */
  toLocalNumber(n: number): number {
    return this.byRounded.get(n) ?? n;
  }

  /** The mirror's id → the source's. */
  toSource(id: string | number): string {
    return this.sourceOf.get(Number(id)) ?? String(id);
  }

  /** Whether any id needed a stand-in (otherwise translation is the identity and is skipped). */
  get any(): boolean {
    return this.sourceOf.size > 0;
  }
}
