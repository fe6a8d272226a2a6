/** A class name as a person reads it: "chicken_wings" → "Chicken wings" (public/app.js does the same). */
export function formatLabel(label: string): string {
  const words = label.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
