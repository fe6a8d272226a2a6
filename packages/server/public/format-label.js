// @ts-check
// One definition for the web UI (app.js imports it; the browser has no build step) and the server's
// TypeScript (the CLI client), which imports this file through `allowJs` and reads the JSDoc types.

/**
 * A class name as a person reads it: "chicken_wings" → "Chicken wings".
 * @param {string} label
 * @returns {string}
 */
export function formatLabel(label) {
  const words = label.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
