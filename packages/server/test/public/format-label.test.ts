import { describe, expect, it } from 'vitest';
import { formatLabel } from '../../public/format-label.js';

describe('formatLabel (public/format-label.js: the web UI and the CLI client use this one definition)', () => {
  it('turns class names into readable labels', () => {
    expect(formatLabel('chicken_wings')).toBe('Chicken wings');
    expect(formatLabel('pho')).toBe('Pho');
    expect(formatLabel('eggs_benedict')).toBe('Eggs benedict');
    expect(formatLabel('hot-and-sour_soup ')).toBe('Hot and sour soup');
  });
});
