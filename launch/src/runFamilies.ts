// Runs of one base model shown together: a family is two or more runs whose
// configs fine-tune the same `model.name_or_path`; a lone run stays on its own.

export interface Family<T> {
  family: string;
  runs: T[];
}

/**
 * Groups `items` (already in display order) by base; a family stands where
 * its first run would, and keeps its runs in the given order.
 */
export function groupFamilies<T>(
  items: readonly T[],
  baseOf: (item: T) => string | undefined,
): (T | Family<T>)[] {
  const bases = items.map(baseOf);
  const count = new Map<string, number>();
  for (const base of bases) if (base) count.set(base, (count.get(base) ?? 0) + 1);
  const families = new Map<string, Family<T>>();
  const roots: (T | Family<T>)[] = [];
  items.forEach((item, index) => {
    const base = bases[index];
    if (!base || (count.get(base) ?? 0) < 2) {
      roots.push(item);
      return;
    }
    let family = families.get(base);
    if (!family) {
      family = { family: base, runs: [] };
      families.set(base, family);
      roots.push(family);
    }
    family.runs.push(item);
  });
  return roots;
}
