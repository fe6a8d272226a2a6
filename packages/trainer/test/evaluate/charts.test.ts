import { describe, expect, it } from 'vitest';
import { FOOD101_CLASSES } from '../../src/data/synth.ts';
import { confusionSvg } from '../../src/evaluate/charts.ts';

/** A matrix with `correct` on the diagonal and each class's mistakes on the next `spread` classes. */
function confusion(classes: number, spread: number): number[][] {
  return Array.from({ length: classes }, (_, trueIndex) =>
    Array.from({ length: classes }, (_, predicted) => {
      if (predicted === trueIndex) return 90;
      const step = (predicted - trueIndex + classes) % classes;
      return step <= spread ? 2 : 0;
    }),
  );
}
const cellTitles = (svg: string) => svg.match(/<title>true /g)?.length ?? 0;

describe('confusionSvg', () => {
  it('draws every cell up to 20 classes', async () => {
    const classes = FOOD101_CLASSES.slice(0, 10);
    expect(cellTitles(await confusionSvg(confusion(10, 2), classes))).toBe(100);
  });

  it('at 101 classes draws only the diagonal and the non-empty cells, and names every class in full', async () => {
    const svg = await confusionSvg(confusion(101, 3), FOOD101_CLASSES);
    expect(cellTitles(svg)).toBe(101 * 4);
    // All 10,201 cells made 1.7 MB; these 404 stay far below.
    expect(svg.length).toBeLessThan(250_000);
    for (const name of FOOD101_CLASSES) expect(svg).toContain(`>${name}</text>`);
  });
});
