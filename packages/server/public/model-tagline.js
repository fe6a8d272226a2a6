// @ts-check
// The web UI's header line for the model card (app.js imports it; test/public/ tests it).

/**
 * A count as the card shows it: 134 k, 23.6 M.
 * @param {number} value
 * @returns {string}
 */
export function formatCount(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(0)} k`;
  return String(value);
}

/**
 * The network as it is (not always ResNet-50: the demo trains a small one), its size, its classes and,
 * when known, what it was trained on and its test top-1.
 * @param {{ architecture: string, parameters: number, classes: string[],
 *   dataset: { name: string | null, synthetic: boolean | null },
 *   test: { accuracy: number | null } | null }} model  GET /api/model
 * @returns {string}
 */
export function modelTagline(model) {
  // Generated pictures are no food: their classes only borrow food names.
  const classes = `${model.classes.length} ${model.dataset.synthetic === true ? '' : 'food '}classes`;
  const parts = [model.architecture, `${formatCount(model.parameters)} parameters`, classes];
  if (model.dataset.name) parts.push(`trained on ${model.dataset.name}`);
  if (model.test?.accuracy != null) parts.push(`test top-1 ${(model.test.accuracy * 100).toFixed(1)}%`);
  return parts.join(' · ');
}
