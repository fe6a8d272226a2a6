/**
 * `limit` items at evenly spaced positions (all of them without a limit). Splits are stored class by
 * class, so the first N images would be one or two classes; evenly spaced ones keep every class's share.
 */
export function spreadSubset<T>(items: readonly T[], limit?: number): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}
