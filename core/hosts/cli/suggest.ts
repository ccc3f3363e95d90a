// "did you mean": the known name closest to a mistyped flag or command. A name differing only in
// case wins (--keyspec is --KeySpec); otherwise the nearest by edit distance, if it is near enough
// to be a typo (at most a third of the name's length, and at most 3 edits).

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name `given` most likely meant, or undefined when none is close. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  const lower = given.toLowerCase();
  const sameCase = known.find((name) => name.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    // A prefix (--KeyVersion for --KeyVersionId) counts as near whatever its length difference.
    const near = name.toLowerCase().startsWith(lower) && lower.length >= 3 ? 1 : distance;
    if (near < bestDistance) {
      bestDistance = near;
      best = name;
    }
  }
  return bestDistance <= Math.min(3, Math.max(1, Math.floor(given.length / 3))) ? best : undefined;
}

/** " (did you mean --X?)" for a mistyped flag, or "" when nothing is close. */
export function didYouMean(given: string, known: readonly string[], prefix = '--'): string {
  const match = closestName(given, known);
  return match === undefined ? '' : ` (did you mean ${prefix}${match}?)`;
}
