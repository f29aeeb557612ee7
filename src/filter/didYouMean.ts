/** Nearest-name suggestions for misspelt keys, prefixes and attributes. */

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur.push(v);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
}

/**
 * The candidates close enough to `word` to be what was meant, best first: case-insensitive
 * equality, then prefixes either way (`val_acc` → `val_accuracy`, the most common near-miss of
 * logged keys), then small edit distances.
 */
export function closest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: { c: string; score: number }[] = [];
  for (const c of candidates) {
    const l = c.toLowerCase();
    if (c === word) continue;
    let score: number;
    if (l === w) score = 0;
    else if (w.length >= 3 && (l.startsWith(w) || w.startsWith(l))) score = 1 + Math.abs(l.length - w.length) / 100;
    else {
      const d = editDistance(w, l);
      if (d > Math.max(1, Math.floor(Math.max(w.length, l.length) / 3))) continue;
      score = 2 + d;
    }
    scored.push({ c, score });
  }
  return scored.sort((a, b) => a.score - b.score || a.c.localeCompare(b.c)).slice(0, limit).map((s) => s.c);
}
