import { UserError } from './errors.ts';

/**
 * The class names of a model, saved as `labels.json` beside every checkpoint.
 * The label index is the position in `classes` and the model's output unit of the same index.
 */
export interface Labels {
  classes: string[];
}

/** Validates an untrusted object (a parsed labels.json) and returns it typed. */
export function parseLabels(value: unknown, source = 'labels.json'): Labels {
  const fail = (why: string): never => {
    throw new UserError(
      `${source}: ${why}. It must look like {"classes": ["apple_pie", ...]}; restore it from the checkpoint or the prepared data set's manifest.json.`,
      'LABELS_INVALID',
    );
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a JSON object');
  const classes = (value as Record<string, unknown>).classes;
  if (!Array.isArray(classes) || classes.length === 0) fail('"classes" must be a non-empty array');
  const seen = new Set<string>();
  for (const [index, name] of (classes as unknown[]).entries()) {
    if (typeof name !== 'string' || name.trim() === '') fail(`class ${index} is not a non-empty string`);
    if (seen.has(name as string)) fail(`class "${String(name)}" appears twice`);
    seen.add(name as string);
  }
  return { classes: [...(classes as string[])] };
}
