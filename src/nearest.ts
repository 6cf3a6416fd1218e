/**
 * "Did you mean": the known names closest to one the user typed (Levenshtein distance), for every message about an
 * unknown name (kinds, resources, meshes, services, clusters, subsets).
 */

/** Edits (insert, delete, replace one character) that turn a into b. */
export function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]
}

/** The candidates within a typo's reach of name, closest first (at most `limit`). */
export function closeNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  return [...new Set(candidates)].map((n) => ({n, d: distance(n, name)}))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d).slice(0, limit).map((x) => x.n)
}

/** The one candidate closest to name (case-insensitively, ties to the first in sorted order); undefined when there are none. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: {n: string; d: number} | undefined
  for (const n of [...new Set(candidates)].sort()) {
    const d = distance(n.toLowerCase(), name.toLowerCase())
    if (!best || d < best.d) best = {n, d}
  }
  return best?.n
}

/** `did you mean X?`, or what to do when there is nothing to choose from. */
export function didYouMean(name: string, candidates: Iterable<string>, none = 'there are none'): string {
  const best = nearest(name, candidates)
  return best === undefined ? none : `did you mean ${best}?`
}
